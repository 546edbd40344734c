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
