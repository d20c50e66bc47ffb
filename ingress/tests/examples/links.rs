//! The documentation stands alone: every relative link of `README.md`, `docs/*.md` and
//! `deploy/README.md` names a file inside the repository.

use std::path::Path;

/// The targets of the Markdown links `[text](target)` in `markdown`.
fn targets(markdown: &str) -> Vec<&str> {
    markdown
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &markdown[at + 2..];
            rest.find(')').map(|end| rest[..end].trim())
        })
        .collect()
}

#[test]
fn every_relative_link_names_a_file_of_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .canonicalize()
        .expect("workspace root");
    let mut files = vec![root.join("README.md"), root.join("deploy/README.md")];
    files.extend(
        std::fs::read_dir(root.join("docs"))
            .expect("docs/")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "md")),
    );
    let mut broken = Vec::new();
    for file in &files {
        let markdown = std::fs::read_to_string(file).expect("readable documentation");
        for target in targets(&markdown) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let path = target.split('#').next().unwrap_or_default();
            if path.is_empty() {
                continue;
            }
            let resolved = file
                .parent()
                .expect("a directory")
                .join(path)
                .canonicalize();
            match resolved {
                Ok(resolved) if resolved.starts_with(&root) => {}
                Ok(_) => broken.push(format!(
                    "{}: {target} is outside the repository",
                    file.display()
                )),
                Err(_) => broken.push(format!("{}: {target} does not exist", file.display())),
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn link_targets_are_found() {
    assert_eq!(
        targets("see [a](docs/a.md#x) and [b](https://b) (not a link)"),
        ["docs/a.md#x", "https://b"]
    );
}
