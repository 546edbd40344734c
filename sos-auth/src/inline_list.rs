//! A list that lives on the stack up to `N` items and spills to the heap after, so that the
//! common request (a handful of headers and query parameters) signs without allocating.

#[derive(Clone)]
pub(crate) enum InlineList<T: Copy + Default, const N: usize> {
    Inline([T; N], usize),
    Heap(Vec<T>),
}

impl<T: Copy + Default, const N: usize> InlineList<T, N> {
    pub(crate) fn new() -> Self {
        Self::Inline([T::default(); N], 0)
    }

    pub(crate) fn push(&mut self, item: T) {
        match self {
            Self::Inline(items, len) if *len < N => {
                items[*len] = item;
                *len += 1;
            }
            Self::Inline(items, len) => {
                let mut v = Vec::with_capacity(*len * 2);
                v.extend_from_slice(&items[..*len]);
                v.push(item);
                *self = Self::Heap(v);
            }
            Self::Heap(v) => v.push(item),
        }
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            Self::Inline(items, len) => &items[..*len],
            Self::Heap(v) => v,
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Self::Inline(items, len) => &mut items[..*len],
            Self::Heap(v) => v,
        }
    }
}

/// Insertion sort: the lists are short and often nearly sorted; `slice::sort_by` would do
/// too, but this keeps the hot path free of the merge sort's scratch buffer.
pub(crate) fn insertion_sort_by<T: Copy>(items: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    if items.len() > 32 {
        items.sort_by(|a, b| {
            if less(a, b) {
                std::cmp::Ordering::Less
            } else if less(b, a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        return;
    }
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// A byte buffer on the stack up to `N` bytes, spilling to the heap after: the canonical
/// request and the string to sign are written here, then hashed in one call (one call over
/// contiguous bytes is much cheaper than dozens of small hasher updates).
pub(crate) struct StackBuf<const N: usize> {
    inline: [u8; N],
    len: usize,
    spill: Vec<u8>,
}

impl<const N: usize> StackBuf<N> {
    pub(crate) fn new() -> Self {
        Self {
            inline: [0; N],
            len: 0,
            spill: Vec::new(),
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.spill.is_empty() {
            if let Some(dst) = self.inline.get_mut(self.len..self.len + bytes.len()) {
                copy_short(dst, bytes);
                self.len += bytes.len();
                return;
            }
            self.spill.reserve(self.len * 2 + bytes.len());
            self.spill.extend_from_slice(&self.inline[..self.len]);
        }
        self.spill.extend_from_slice(bytes);
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        if self.spill.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }
}

/// Copies `src` into `dst` (same length). Most pieces of a canonical request are a few bytes
/// (separators, header names, a date): fixed-size overlapping copies of the first and last
/// bytes beat a call to `memcpy`, which dominated the profile.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n >= 32 || n != dst.len() {
        dst.copy_from_slice(src);
    } else if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..].copy_from_slice(&src[n - 4..]);
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
}

/// Where the signing code writes the text it hashes: a [`StackBuf`] when signing, a `Vec`
/// for the debugging aids that show the text. A trait rather than a closure so that the
/// hot path's `push` is inlined at each of the dozens of call sites.
pub(crate) trait ByteSink {
    fn put(&mut self, bytes: &[u8]);
}

impl<const N: usize> ByteSink for StackBuf<N> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.push(bytes);
    }
}

impl ByteSink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Any `|piece| ...` closure is a sink too (the URL builders encode into their own buffers).
impl<F: FnMut(&[u8])> ByteSink for F {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_buf_spills() {
        let mut b = StackBuf::<4>::new();
        b.push(b"ab");
        b.push(b"cd");
        assert_eq!(b.as_slice(), b"abcd");
        b.push(b"efg");
        b.push(b"");
        b.push(b"h");
        assert_eq!(b.as_slice(), b"abcdefgh");
    }

    #[test]
    fn short_copies_of_every_length() {
        let src: Vec<u8> = (0..80).collect();
        for n in 0..=80 {
            let mut b = StackBuf::<200>::new();
            b.push(b"x");
            b.push(&src[..n]);
            b.push(b"y");
            let mut want = vec![b'x'];
            want.extend_from_slice(&src[..n]);
            want.push(b'y');
            assert_eq!(b.as_slice(), &want[..], "length {n}");
        }
    }
}
