//! A list that lives on the stack up to `N` items and spills to the heap after, so that the
//! common request (a handful of headers and query parameters) signs without allocating.

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
                if bytes.len() <= 8 {
                    // Most pieces are separators and short names: a loop beats a memcpy call.
                    for (d, b) in dst.iter_mut().zip(bytes) {
                        *d = *b;
                    }
                } else {
                    dst.copy_from_slice(bytes);
                }
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
}
