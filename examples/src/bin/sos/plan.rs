//! Checks on what a command acting on many objects or files is about to write, made before
//! anything is written: two jobs must not write one destination (the second would replace
//! what the first wrote, and `mv` would already have deleted the first's source), and a
//! file must not be written where another job needs a directory.

use std::collections::HashMap;
use std::path::Path;

use crate::Failure;
use crate::target::S3Path;

/// Refuses jobs that write one object twice. `jobs` gives each job's source (as shown to
/// the user) and destination.
pub(crate) fn distinct_objects<'a>(
    verb: &str,
    jobs: impl IntoIterator<Item = (String, &'a S3Path)>,
) -> Result<(), Failure> {
    let mut dests: Vec<(&S3Path, String)> = jobs.into_iter().map(|(from, to)| (to, from)).collect();
    // Stable: the sources of one destination stay in the order they were given.
    dests.sort_by(|a, b| a.0.cmp(b.0));
    for pair in dests.windows(2) {
        if let [(to, first), (other, second)] = pair
            && to == other
        {
            return Err(Failure::Usage(format!(
                "{verb}: {first} and {second} would both be written to {}; nothing was done",
                to.uri()
            )));
        }
    }
    Ok(())
}

/// Refuses jobs that write one file twice, or a file where another job needs a directory
/// (objects `x` and `x/y` cannot both be files). `jobs` gives each job's source (as shown to
/// the user) and destination.
pub(crate) fn distinct_files<'a>(
    verb: &str,
    jobs: impl IntoIterator<Item = (String, &'a Path)>,
) -> Result<(), Failure> {
    let mut dests: Vec<(&Path, String)> = jobs.into_iter().map(|(from, to)| (to, from)).collect();
    // Paths compare by components: what is below `x` sorts right after `x`.
    dests.sort_by(|a, b| a.0.cmp(b.0));
    for pair in dests.windows(2) {
        let [(file, first), (other, second)] = pair else {
            continue;
        };
        if file == other {
            return Err(Failure::Usage(format!(
                "{verb}: {first} and {second} would both be written to {}; nothing was done",
                file.display()
            )));
        }
        if other.starts_with(file) {
            return Err(Failure::Usage(format!(
                "{verb}: {first} would be the file {} and {second} needs it as a directory \
                 ({}); nothing was done (--exclude one of them)",
                file.display(),
                other.display()
            )));
        }
    }
    Ok(())
}

/// The order to run copies in, so that none reads an object another has already replaced:
/// a copy whose source is the destination of another runs first (`cp -r s3://b/d/
/// s3://b/d/sub/` copies `d/sub/f` to `d/sub/sub/f` before `d/f` replaces it). Copies that
/// would each replace the other's source are refused. The destinations must be distinct.
pub(crate) fn copy_order(verb: &str, jobs: &[(S3Path, S3Path)]) -> Result<Vec<usize>, Failure> {
    let writer: HashMap<&S3Path, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, (_, to))| (to, i))
        .collect();
    // The job that replaces job i's source (a copy onto itself replaces nothing first).
    let next = |i: usize| writer.get(&jobs[i].0).copied().filter(|&w| w != i);
    // How many jobs follow each one in its chain; a job must run before its `next`.
    let mut after: Vec<Option<usize>> = vec![None; jobs.len()];
    for start in 0..jobs.len() {
        let mut chain = vec![start];
        let mut known = 0;
        while let Some(&last) = chain.last() {
            if let Some(n) = after[last] {
                chain.pop();
                known = n + 1;
                break;
            }
            match next(last) {
                None => break,
                Some(w) if chain.contains(&w) => {
                    let (from, to) = &jobs[last];
                    return Err(Failure::Usage(format!(
                        "{verb}: {} -> {} and {} -> {} are in a cycle of copies, each \
                         replacing the source of another; nothing was done",
                        from.uri(),
                        to.uri(),
                        jobs[w].0.uri(),
                        jobs[w].1.uri()
                    )));
                }
                Some(w) => chain.push(w),
            }
        }
        for job in chain.into_iter().rev() {
            after[job] = Some(known);
            known += 1;
        }
    }
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    // Stable: independent jobs keep the listing's order.
    order.sort_by_key(|&i| std::cmp::Reverse(after[i].unwrap_or(0)));
    Ok(order)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn s3(key: &str) -> S3Path {
        S3Path {
            bucket: "b".to_owned(),
            key: key.to_owned(),
        }
    }

    #[test]
    fn one_object_written_twice_is_refused() {
        let (a, b) = (s3("dest/f"), s3("dest/g"));
        assert!(distinct_objects("cp", [("x".to_owned(), &a), ("y".to_owned(), &b)]).is_ok());
        let Err(Failure::Usage(m)) = distinct_objects(
            "mv",
            [
                ("s3://b/d1/f".to_owned(), &a),
                ("s3://b/x".to_owned(), &b),
                ("s3://b/d2/f".to_owned(), &a),
            ],
        ) else {
            panic!("not refused");
        };
        assert!(
            m.contains("s3://b/d1/f and s3://b/d2/f") && m.contains("s3://b/dest/f"),
            "{m}"
        );
        // Another bucket is another object.
        let other = S3Path {
            bucket: "c".to_owned(),
            key: "dest/f".to_owned(),
        };
        assert!(distinct_objects("cp", [("x".to_owned(), &a), ("y".to_owned(), &other)]).is_ok());
    }

    #[test]
    fn files_written_twice_or_over_a_directory_are_refused() {
        let files = |paths: &[&str]| -> Result<(), Failure> {
            let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
            distinct_files(
                "get",
                paths.iter().map(|p| (p.display().to_string(), p.as_path())),
            )
        };
        assert!(files(&["d/x", "d/x.txt", "d/x0/y", "d/y"]).is_ok());
        assert!(files(&["d/f", "d/g", "d/./f"]).is_err());
        assert!(files(&["d/x", "d/x0", "d/x/y"]).is_err());
        assert!(files(&["d/x/y/z", "d/x"]).is_err());
    }

    #[test]
    fn a_source_is_read_before_it_is_replaced() {
        // cp -r s3://b/d/ s3://b/d/sub/, listed as d/f, d/sub/f, d/sub/sub/f.
        let jobs = vec![
            (s3("d/f"), s3("d/sub/f")),
            (s3("d/sub/f"), s3("d/sub/sub/f")),
            (s3("d/sub/sub/f"), s3("d/sub/sub/sub/f")),
            (s3("d/z"), s3("d/sub/z")),
        ];
        let order = copy_order("cp", &jobs).unwrap();
        let at = |job: usize| order.iter().position(|&i| i == job).unwrap();
        assert!(at(2) < at(1) && at(1) < at(0), "{order:?}");
        assert_eq!(order.len(), 4);
        // Independent jobs keep their order; a copy onto itself is no chain.
        let jobs = vec![
            (s3("a"), s3("x/a")),
            (s3("b"), s3("b")),
            (s3("c"), s3("x/c")),
        ];
        assert_eq!(copy_order("cp", &jobs).unwrap(), vec![0, 1, 2]);
        // Two copies that replace each other's source.
        let jobs = vec![(s3("a"), s3("b")), (s3("b"), s3("a"))];
        assert!(copy_order("mv", &jobs).is_err());
    }
}
