//! End-to-end tests of the `explain` command on the fixture network: what a user runs, what
//! it prints and writes, and how it refuses bad input.
//!
//! Each test runs the binary in its own temporary directory. The fixture numbers (the
//! explained class 142 and its logit 10.5939) come from `fixtures/README.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixture directory of this crate.
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// `explain` with `args`, no torchvision cache, in `dir`.
fn explain(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_explain"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("TORCH_HOME")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

/// The fixture network, the fixture scene, output into `dir/out`; flags in `extra` replace
/// these defaults or add to them.
fn explain_fixture(dir: &Path, extra: &[&str]) -> Output {
    let weights = fixture("vgg16_tiny.pth");
    let image = fixture("scene.png");
    let out = dir.join("out");
    let defaults = [
        ("--weights", weights.to_str().unwrap()),
        ("--arch", "vgg16-tiny"),
        ("--image", image.to_str().unwrap()),
        ("--out", out.to_str().unwrap()),
    ];
    let mut args: Vec<&str> = Vec::new();
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    explain(dir, &args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `.npy` payload as f32 values (header skipped).
fn npy_values(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    bytes[10 + header_len..].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn explains_the_fixture_scene_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let output = explain_fixture(dir.path(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("142  dowitcher"), "{text}");
    assert!(text.contains("explaining class 142 (dowitcher), logit 10.5938"), "{text}");

    let panel = image::open(dir.path().join("out/scene_panel.png")).unwrap().to_rgb8();
    // Two title lines above (38 px), a colour bar with its labels below (34 px).
    assert_eq!(panel.dimensions(), (3 * 224 + 2 * 8, 38 + 224 + 34), "image | Gradient×Input | LRP");

    // The .npy files hold the per-channel relevance; its sum is what the command printed,
    // and LRP's sum is the fixture's Σ lrp (10.2806) up to float32 rounding.
    let lrp = npy_values(&dir.path().join("out/scene_lrp.npy"));
    assert_eq!(lrp.len(), 3 * 224 * 224);
    let sum: f64 = lrp.iter().map(|&v| f64::from(v)).sum();
    assert!((sum - 10.280_58).abs() < 1e-3, "Σ lrp = {sum}");
    let printed: f64 = text
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("lrp")?.split_whitespace().nth(3)?.parse().ok())
        .unwrap_or_else(|| panic!("no LRP sum printed: {text}"));
    assert!((printed - sum).abs() < 1e-4 * sum.abs(), "printed {printed}, file {sum}");
    assert!(dir.path().join("out/scene_gradient_x_input.npy").exists());
}

#[test]
fn class_by_name_and_single_method() {
    let dir = tempfile::tempdir().unwrap();
    let output = explain_fixture(dir.path(), &["--class", "castle", "--method", "lrp", "--gamma", "0.1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("explaining class 483 (castle)"), "{}", stdout(&output));
    let panel = image::open(dir.path().join("out/scene_panel.png")).unwrap();
    assert_eq!(panel.width(), 2 * 224 + 8, "image | LRP");
    assert!(!dir.path().join("out/scene_gradient_x_input.npy").exists());
}

#[test]
fn missing_weights_say_how_to_get_them() {
    let dir = tempfile::tempdir().unwrap();
    let image = fixture("scene.png");
    let output = explain(dir.path(), &["--image", image.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("vgg16-397923af.pth"), "{message}");
    assert!(message.contains("torchvision.models.vgg16(weights="), "{message}");
    assert!(message.contains("huggingface.co/timm/vgg16.tv_in1k"), "{message}");
}

#[test]
fn finds_weights_in_the_torchvision_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("torch/hub/checkpoints");
    std::fs::create_dir_all(&cache).unwrap();
    // Tiny weights under VGG-16's file name: found, then rejected as the wrong architecture,
    // which proves the cache path was used.
    std::fs::copy(fixture("vgg16_tiny.pth"), cache.join("vgg16-397923af.pth")).unwrap();
    let image = fixture("scene.png");
    let output = Command::new(env!("CARGO_BIN_EXE_explain"))
        .args(["--image", image.to_str().unwrap(), "--out", dir.path().join("o").to_str().unwrap()])
        .env("TORCH_HOME", dir.path().join("torch"))
        .output()
        .unwrap();
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains("vgg16-397923af.pth"), "{message}");
    assert!(message.contains("features.0.weight"), "the mismatch is listed: {message}");
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let not_an_image = dir.path().join("notes.png");
    std::fs::write(&not_an_image, "hello").unwrap();
    let not_weights = dir.path().join("weights.pth");
    std::fs::write(&not_weights, "hello").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--class", "1000"], "class 1000 does not exist"),
        (vec!["--class", "casle"], "closest: castle"),
        (vec!["--gamma", "-0.5"], "--gamma"),
        (vec!["--gamma", "0.1,0.2"], "--gamma"),
        (vec!["--image", not_an_image.to_str().unwrap()], "cannot decode"),
        (vec!["--weights", not_weights.to_str().unwrap()], "neither a PyTorch .pth"),
        (vec!["--arch", "vgg16"], "features.0.weight"),
    ];
    for (extra, expected) in cases {
        let output = explain_fixture(dir.path(), &extra);
        assert!(!output.status.success(), "{extra:?} should fail");
        let message = stderr(&output);
        assert!(message.contains(expected), "{extra:?}: expected {expected:?} in:\n{message}");
        assert!(!message.contains("panicked"), "{extra:?} panicked:\n{message}");
    }
}

#[test]
fn without_arguments_the_shipped_model_explains_synthetic_scenes() {
    let dir = tempfile::tempdir().unwrap();
    let output = explain(dir.path(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let panels: Vec<PathBuf> = std::fs::read_dir(dir.path().join("explanations"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with("_panel.png"))
        .collect();
    assert_eq!(panels.len(), 6, "one scene per class: {text}");
    for shape in ["disk", "square", "triangle", "cross", "ring", "bar"] {
        assert!(
            panels.iter().any(|p| p.to_string_lossy().contains(&format!("_{shape}_"))),
            "{shape}: {text}"
        );
        assert!(text.contains(shape), "{text}");
    }
    // scene | mask | Gradient×Input | LRP, each 64 pixels enlarged 4×, 8 pixels apart.
    let panel = image::open(&panels[0]).unwrap();
    assert_eq!((panel.width(), panel.height()), (4 * 256 + 3 * 8, 38 + 256 + 34), "titles and colour bars");
    assert!(text.contains("scene | mask | gradient_x_input | lrp"), "{text}");
}

#[test]
fn image_only_flags_need_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let weights = fixture("vgg16_tiny.pth");
    let output = explain(dir.path(), &["--weights", weights.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("need --image"), "{}", stderr(&output));
    let output = explain(dir.path(), &["--scenes", "2", "--image", "x.png"]);
    assert!(!output.status.success(), "--scenes conflicts with --image");
}
