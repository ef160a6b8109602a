#!/bin/sh
# Regenerates the captures in this directory. Needs a running, throwaway
# PostgreSQL 15 (superuser "postgres", trust auth) started with
#   -c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10
#   -c logical_decoding_work_mem=64kB
# and an empty "postgres" database. Usage: capture.sh SOCKET_DIR PORT
set -eu
host=$1
port=$2
here=$(cd "$(dirname "$0")" && pwd)
psql="psql -X -q -v ON_ERROR_STOP=1 -h $host -p $port -U postgres -d postgres"

peek() { # slot file options...
    slot=$1; file=$2; shift 2
    opts=""
    for o in "$@"; do opts="$opts, '$o'"; done
    {
        echo "# pg_logical_slot_peek_binary_changes('$slot', NULL, NULL$opts)"
        echo "# columns: lsn xid hex(data); one pgoutput message per line"
        $psql -At -F ' ' -c "SELECT lsn, xid, encode(data, 'hex') FROM pg_logical_slot_peek_binary_changes('$slot', NULL, NULL$opts)"
    } > "$here/$file"
}

$psql -f "$here/capture_main.sql" > /dev/null
peek slot_main main_v1.txt proto_version 1 publication_names pub,pub_ins messages true
peek slot_main main_v1_binary.txt proto_version 1 publication_names pub,pub_ins messages true binary true
peek slot_main main_v2.txt proto_version 2 publication_names pub,pub_ins messages true streaming on

$psql -v connstr="host=$host port=$port user=postgres dbname=postgres" -f "$here/capture_stream.sql" > /dev/null
peek slot_stream stream_v2.txt proto_version 2 publication_names pub,pub_ins messages true streaming on
wc -l "$here"/*.txt
