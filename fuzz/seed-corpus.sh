#!/bin/sh
# Fills fuzz/corpus/pgoutput_decode/ with seeds made from the captured
# frames in testdata/pgoutput/: one seed per captured frame (alone, for each
# decoder configuration the frame is valid in) and a few whole sessions in
# the length-prefixed layout of fuzz_targets/pgoutput_decode.rs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data="$here/../testdata/pgoutput"
out="$here/corpus/pgoutput_decode"
mkdir -p "$out"
perl -e '
    my ($data, $out) = @ARGV;
    # config byte: version index (0 = v1, 1 = v2) + 0x80 for "in a stream".
    for my $f (["main_v1.txt", 0], ["main_v1_binary.txt", 0], ["stream_v2.txt", 1]) {
        my ($name, $cfg) = @$f;
        open my $in, "<", "$data/$name" or die "$name: $!";
        my ($n, $in_stream, $session) = (0, 0, "");
        while (my $line = <$in>) {
            next if $line =~ /^#/ or $line !~ /\S/;
            my $hex = (split " ", $line)[-1];
            my $frame = pack "H*", $hex;
            my $c = chr($cfg | ($in_stream ? 0x80 : 0));
            if ($n < 400) {
                open my $o, ">", sprintf("%s/%s-%04d", $out, $name, $n) or die $!;
                binmode $o;
                print $o $c, $frame;
                close $o;
            }
            if (length($frame) < 256 && length($session) < 4096) {
                $session .= chr(length $frame) . $frame;
            }
            $in_stream = 1 if substr($frame, 0, 1) eq "S";
            $in_stream = 0 if substr($frame, 0, 1) eq "E";
            $n++;
        }
        open my $o, ">", "$out/$name-session" or die $!;
        binmode $o;
        print $o chr($cfg), $session;
        close $o;
    }
' "$data" "$out"
ls "$out" | wc -l
