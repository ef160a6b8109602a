//! [`Text`]: the immutable string behind [`Value::String`](crate::Value).
//!
//! Change events are full of short, repeated strings (the source block's
//! version, connector, server, database, schema and table names, the `op`
//! code, ISO timestamps). A `String` costs a heap allocation for each of them
//! and a (often cross-thread) free when the event is dropped. `Text` avoids
//! both:
//!
//! * strings of up to [`Text::INLINE_CAP`] bytes are stored inline, so
//!   building and cloning them is a copy;
//! * `&'static str` constants are borrowed ([`Text::from_static`], `const`);
//! * longer strings live on the heap, as an ordinary `String` (so
//!   `From<String>` and [`Text::into_string`] neither copy nor reallocate).
//!
//! There is no reference counting: cloning a heap `Text` copies it, like a
//! `String`. Equality, ordering and hashing are by content and agree with
//! `str`, so a `HashMap<Text, _>` can be looked up with a `&str`.
//!
//! One `unsafe` operation, in [`inline_str`]: reading the inline bytes back
//! as `&str` without validating them again on every access (a checked
//! `from_utf8` there cost ~4 % of a snapshot's CPU). Inline bytes are only
//! ever whole `&str`s copied in, so they are always valid UTF-8.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Bytes stored inline. 39 bytes plus the one-byte length make 40 bytes, the
/// size of the heap and static variants' alignment-padded payload; the
/// length's unused values (40..=255) give the enum its discriminant for free.
const INLINE_CAP: usize = 39;

/// An immutable UTF-8 string with small-string optimisation. See the module
/// documentation.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Inline {
        buf: [u8; INLINE_CAP],
        len: InlineLen,
    },
    Static(&'static str),
    Heap(String),
}

/// The length of an inline string, 0..=39. An enum rather than a `u8` so that
/// the values 40..=255 are a niche the compiler uses for [`Repr`]'s
/// discriminant, which keeps `Text` at 40 bytes with 39 inline bytes.
#[derive(Clone, Copy)]
#[repr(u8)]
#[rustfmt::skip]
enum InlineLen {
    L0, L1, L2, L3, L4, L5, L6, L7, L8, L9,
    L10, L11, L12, L13, L14, L15, L16, L17, L18, L19,
    L20, L21, L22, L23, L24, L25, L26, L27, L28, L29,
    L30, L31, L32, L33, L34, L35, L36, L37, L38, L39,
}

#[rustfmt::skip]
const INLINE_LENS: [InlineLen; INLINE_CAP + 1] = {
    use InlineLen::*;
    [
        L0, L1, L2, L3, L4, L5, L6, L7, L8, L9,
        L10, L11, L12, L13, L14, L15, L16, L17, L18, L19,
        L20, L21, L22, L23, L24, L25, L26, L27, L28, L29,
        L30, L31, L32, L33, L34, L35, L36, L37, L38, L39,
    ]
};

impl Text {
    /// Longest string, in bytes, stored without a heap allocation.
    pub const INLINE_CAP: usize = INLINE_CAP;

    /// The empty string.
    pub const fn new() -> Text {
        Text(Repr::Static(""))
    }

    /// A `Text` borrowing a constant: no copy, no allocation.
    pub const fn from_static(s: &'static str) -> Text {
        Text(Repr::Static(s))
    }

    /// Inline copy of `s` when it is short enough.
    fn inline(s: &str) -> Option<Text> {
        let bytes = s.as_bytes();
        let len = *INLINE_LENS.get(bytes.len())?;
        let mut buf = [0u8; INLINE_CAP];
        buf[..bytes.len()].copy_from_slice(bytes);
        Some(Text(Repr::Inline { buf, len }))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { buf, len } => inline_str(&buf[..*len as usize]),
            Repr::Static(s) => s,
            Repr::Heap(s) => s,
        }
    }

    /// Formats `args` into a `Text`, inline (no allocation) when the result
    /// fits in [`Text::INLINE_CAP`] bytes: `Text::from_fmt(format_args!(..))`
    /// is `format!(..).into()` without the `String` for short results.
    pub fn from_fmt(args: fmt::Arguments<'_>) -> Text {
        if let Some(s) = args.as_str() {
            return Text::from_static(s);
        }
        let mut b = TextBuilder::new();
        // Writing into memory never fails; a `Display` impl returning an
        // error would make `format!` panic, and here it just truncates.
        let _ = fmt::Write::write_fmt(&mut b, args);
        b.finish()
    }

    /// The owned `String`; free for heap strings, one allocation otherwise.
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Heap(s) => s,
            _ => self.as_str().to_owned(),
        }
    }

    /// Whether the string is held without a heap allocation (inline or
    /// static).
    pub fn is_heap_free(&self) -> bool {
        !matches!(self.0, Repr::Heap(_))
    }
}

/// The inline bytes as `&str`.
///
/// Every inline buffer (of [`Text`] and [`TextBuilder`]) is filled only by
/// copying whole `&str`s or whole encoded `char`s into it, and never
/// modified otherwise, so its first `len` bytes are valid UTF-8. Debug
/// builds check it anyway.
#[allow(unsafe_code)]
#[inline(always)]
fn inline_str(bytes: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(bytes).is_ok(), "inline text is UTF-8");
    // SAFETY: see above — the bytes are a concatenation of valid UTF-8
    // strings, copied unchanged.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// Builds a [`Text`] piece by piece on the stack: the bytes stay inline
/// (no allocation) until they no longer fit in [`Text::INLINE_CAP`], then
/// move to a `String`. Also a [`fmt::Write`], for `write!`.
#[derive(Debug, Clone)]
pub struct TextBuilder {
    buf: [u8; INLINE_CAP],
    len: usize,
    spill: Option<String>,
}

impl TextBuilder {
    pub const fn new() -> TextBuilder {
        TextBuilder {
            buf: [0u8; INLINE_CAP],
            len: 0,
            spill: None,
        }
    }

    pub fn push_str(&mut self, s: &str) {
        if let Some(spill) = &mut self.spill {
            spill.push_str(s);
        } else if let Some(dst) = self.buf.get_mut(self.len..self.len + s.len()) {
            dst.copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            let mut spill = String::with_capacity((self.len + s.len()) * 2);
            spill.push_str(self.inline_str());
            spill.push_str(s);
            self.spill = Some(spill);
        }
    }

    pub fn push(&mut self, c: char) {
        if c.is_ascii() && self.spill.is_none() && self.len < INLINE_CAP {
            // The common case (digits, separators): one byte, no copy call.
            self.buf[self.len] = c as u8;
            self.len += 1;
        } else {
            self.push_str(c.encode_utf8(&mut [0u8; 4]));
        }
    }

    fn inline_str(&self) -> &str {
        // Only whole `&str`s and whole chars are ever appended.
        inline_str(&self.buf[..self.len])
    }

    pub fn as_str(&self) -> &str {
        match &self.spill {
            Some(s) => s,
            None => self.inline_str(),
        }
    }

    pub fn len(&self) -> usize {
        self.spill.as_ref().map_or(self.len, String::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The built `Text`: inline when it fits, else the spilled `String`.
    pub fn finish(self) -> Text {
        match self.spill {
            Some(s) => Text(Repr::Heap(s)),
            None => Text(Repr::Inline {
                buf: self.buf,
                len: INLINE_LENS[self.len],
            }),
        }
    }
}

impl Default for TextBuilder {
    fn default() -> TextBuilder {
        TextBuilder::new()
    }
}

impl fmt::Write for TextBuilder {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::new()
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}
impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Text {
    fn cmp(&self, other: &Text) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Same as `str`, as `Borrow<str>` requires.
        self.as_str().hash(state)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}
impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}
impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}
impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}
impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::inline(s).unwrap_or_else(|| Text(Repr::Heap(s.to_owned())))
    }
}
impl From<&mut str> for Text {
    fn from(s: &mut str) -> Text {
        Text::from(&*s)
    }
}
impl From<String> for Text {
    /// Short strings are copied inline (and the `String` freed) so that later
    /// clones are free; long ones keep their allocation.
    fn from(s: String) -> Text {
        Text::inline(&s).unwrap_or(Text(Repr::Heap(s)))
    }
}
impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::from(s.as_str())
    }
}
impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Text {
        Text::inline(&s).unwrap_or_else(|| Text(Repr::Heap(s.into_string())))
    }
}
impl From<&Text> for Text {
    fn from(t: &Text) -> Text {
        t.clone()
    }
}
impl From<std::borrow::Cow<'_, str>> for Text {
    fn from(s: std::borrow::Cow<'_, str>) -> Text {
        match s {
            std::borrow::Cow::Borrowed(s) => Text::from(s),
            std::borrow::Cow::Owned(s) => Text::from(s),
        }
    }
}
impl From<Text> for String {
    fn from(t: Text) -> String {
        t.into_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::HashMap;

    fn hash_of<T: Hash + ?Sized>(t: &T) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    fn heap(s: &str) -> Text {
        Text(Repr::Heap(s.to_owned()))
    }

    #[test]
    fn sizes() {
        println!(
            "size_of: Text {}, Value {}, Option<Text> {}",
            std::mem::size_of::<Text>(),
            std::mem::size_of::<crate::Value>(),
            std::mem::size_of::<Option<Text>>()
        );
        assert!(std::mem::size_of::<Text>() <= 40);
        assert!(std::mem::size_of::<crate::Value>() <= 48);
        assert_eq!(Text::INLINE_CAP, 39);
    }

    #[test]
    fn inline_boundary_round_trips() {
        for n in [0, 1, INLINE_CAP - 1, INLINE_CAP, INLINE_CAP + 1, 200] {
            let s = "x".repeat(n);
            for t in [
                Text::from(s.as_str()),
                Text::from(s.clone()),
                Text::from(&s),
            ] {
                assert_eq!(t.as_str(), s);
                assert_eq!(t.len(), n);
                assert_eq!(t.is_empty(), n == 0);
                assert_eq!(t.is_heap_free(), n <= INLINE_CAP, "len {n}");
                assert_eq!(t.clone(), t);
                assert_eq!(t.clone().into_string(), s);
                assert_eq!(String::from(t), s);
            }
            let boxed: Box<str> = s.clone().into_boxed_str();
            assert_eq!(Text::from(boxed).as_str(), s);
        }
    }

    #[test]
    fn multibyte_near_boundary() {
        // 'é' is 2 bytes, '€' 3, '😀' 4: strings ending exactly at, one byte
        // before and straddling the inline capacity.
        for (pad, ch) in [
            (37, "é"),
            (38, "é"),
            (36, "€"),
            (37, "€"),
            (35, "😀"),
            (36, "😀"),
        ] {
            let s = format!("{}{ch}", "a".repeat(pad));
            let t = Text::from(s.as_str());
            assert_eq!(t, s);
            assert_eq!(t.is_heap_free(), s.len() <= INLINE_CAP);
            assert_eq!(t.chars().last().unwrap().to_string(), ch);
        }
        let s = "ü".repeat(19); // 38 bytes
        assert!(Text::from(&s).is_heap_free());
        let s = "ü".repeat(20); // 40 bytes
        assert!(!Text::from(&s).is_heap_free());
    }

    #[test]
    fn static_and_default() {
        const PG: Text = Text::from_static("postgresql");
        assert_eq!(PG, "postgresql");
        assert!(PG.is_heap_free());
        let long: &'static str = "a static string that is longer than the inline capacity";
        let t = Text::from_static(long);
        assert!(t.is_heap_free());
        assert_eq!(t.clone(), long);
        assert_eq!(Text::default(), "");
        assert!(Text::new().is_empty());
        assert_eq!(Text::default(), Text::from(String::new()));
    }

    #[test]
    fn equality_order_and_hash_agree_across_representations() {
        for s in [
            "",
            "r",
            "postgresql",
            "2024-01-02T03:04:05.678901Z",
            &"y".repeat(60),
        ] {
            let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
            let reprs = [Text::from(s), heap(s), Text::from_static(leaked)];
            for a in &reprs {
                for b in &reprs {
                    assert_eq!(a, b);
                    assert_eq!(a.cmp(b), Ordering::Equal);
                    assert_eq!(hash_of(a), hash_of(b));
                }
                assert_eq!(hash_of(a), hash_of(s));
                assert_eq!(*a, *s);
                assert_eq!(a, &s);
                assert_eq!(*a, s.to_owned());
                assert_eq!(s, *a);
                assert_eq!(format!("{a}"), s);
                assert_eq!(format!("{a:?}"), format!("{s:?}"));
            }
        }
        assert_eq!(Text::from("a").cmp(&heap("b")), Ordering::Less);
        assert_eq!(
            Text::from_static("b").cmp(&Text::from("a")),
            Ordering::Greater
        );
        assert_eq!(
            heap("ab").partial_cmp(&Text::from("b")),
            Some(Ordering::Less)
        );
        assert_ne!(Text::from("a"), heap("ab"));

        let mut map: HashMap<Text, i32> = HashMap::new();
        map.insert(Text::from("inline"), 1);
        map.insert(heap(&"h".repeat(50)), 2);
        map.insert(Text::from_static("static"), 3);
        assert_eq!(map.get("inline"), Some(&1));
        assert_eq!(map.get("h".repeat(50).as_str()), Some(&2));
        assert_eq!(map.get("static"), Some(&3));
        assert_eq!(map.get(&heap("inline")), Some(&1));
    }

    #[test]
    fn from_fmt_inline_and_spilled() {
        let t = Text::from_fmt(format_args!("{}:{}", 4_294_967_295u32, u64::MAX));
        assert_eq!(t, format!("{}:{}", 4_294_967_295u32, u64::MAX));
        assert!(t.is_heap_free()); // 31 bytes
        assert_eq!(Text::from_fmt(format_args!("const")), "const");
        assert!(matches!(
            Text::from_fmt(format_args!("const")).0,
            Repr::Static(_)
        ));
        assert_eq!(Text::from_fmt(format_args!("")), "");
        for n in [INLINE_CAP - 1, INLINE_CAP, INLINE_CAP + 1, 100] {
            let pad = "p".repeat(n - 1);
            let t = Text::from_fmt(format_args!("{pad}{}", 7));
            assert_eq!(t, format!("{pad}7"));
            assert_eq!(t.is_heap_free(), n <= INLINE_CAP);
        }
        // Spilling in the middle of a piece, with multibyte characters.
        let t = Text::from_fmt(format_args!("{}{}", "é".repeat(15), "€".repeat(5)));
        assert_eq!(t, format!("{}{}", "é".repeat(15), "€".repeat(5)));
        assert!(!t.is_heap_free());
    }

    #[test]
    fn builder_spills_past_the_inline_capacity() {
        let mut b = TextBuilder::new();
        assert!(b.is_empty());
        for i in 0..INLINE_CAP {
            b.push('a');
            assert_eq!(b.len(), i + 1);
        }
        assert_eq!(b.clone().finish(), "a".repeat(INLINE_CAP));
        assert!(b.clone().finish().is_heap_free());
        b.push('é');
        b.push_str("xyz");
        let want = format!("{}éxyz", "a".repeat(INLINE_CAP));
        assert_eq!(b.as_str(), want);
        assert_eq!(b.len(), want.len());
        let t = b.finish();
        assert_eq!(t, want);
        assert!(!t.is_heap_free());
    }

    #[test]
    fn clone_is_independent() {
        let original = String::from("a heap string well over the thirty-nine byte limit");
        let t = Text::from(original.clone());
        let c = t.clone();
        drop(t);
        assert_eq!(c, original);
        let small = Text::from("small");
        let c = small.clone();
        drop(small);
        assert_eq!(c, "small");
    }
}
