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

    let panel = image::open(dir.path().join("out/scene_c142_panel.png")).unwrap().to_rgb8();
    // Two title lines above (38 px), a colour bar with its labels below (34 px).
    assert_eq!(panel.dimensions(), (3 * 224 + 2 * 8, 38 + 224 + 34), "image | Gradient×Input | LRP");

    // The .npy files hold the per-channel relevance; its sum is what the command printed,
    // and LRP's sum is the fixture's Σ lrp (10.2806) up to float32 rounding.
    let lrp = npy_values(&dir.path().join("out/scene_c142_lrp.npy"));
    assert_eq!(lrp.len(), 3 * 224 * 224);
    let sum: f64 = lrp.iter().map(|&v| f64::from(v)).sum();
    assert!((sum - 10.280_58).abs() < 1e-3, "Σ lrp = {sum}");
    let printed: f64 = text
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("lrp")?.split_whitespace().nth(3)?.parse().ok())
        .unwrap_or_else(|| panic!("no LRP sum printed: {text}"));
    assert!((printed - sum).abs() < 1e-4 * sum.abs(), "printed {printed}, file {sum}");
    assert!(dir.path().join("out/scene_c142_gradient_x_input.npy").exists());
}

#[test]
fn class_by_name_and_single_method() {
    let dir = tempfile::tempdir().unwrap();
    let output = explain_fixture(dir.path(), &["--class", "castle", "--method", "lrp", "--gamma", "0.1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("explaining class 483 (castle)"), "{}", stdout(&output));
    let panel = image::open(dir.path().join("out/scene_c483_panel.png")).unwrap();
    assert_eq!(panel.width(), 2 * 224 + 8, "image | LRP");
    assert!(!dir.path().join("out/scene_c483_gradient_x_input.npy").exists());
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

// ---- issue 13: reliability of the command line ----

/// The fixture scene saved as a JPEG at `path` (quality 95).
fn scene_as_jpeg(path: &Path) {
    let scene = image::open(fixture("scene.png")).unwrap().to_rgb8();
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95).encode_image(&scene).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The names of the files in `dir`, sorted (empty if it does not exist).
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The fixture arguments with `out` and the given images.
fn fixture_args<'a>(out: &'a str, images: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--arch", "vgg16-tiny", "--out", out];
    if !images.is_empty() {
        args.push("--image");
        args.extend_from_slice(images);
    }
    args
}

/// Runs `binary` with `args` in `dir` with stdout closed before it prints anything.
fn with_closed_stdout(binary: &str, dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_neither_panics_nor_loses_output_files() {
    // Item 1: `explain … | head -1` exited 101 ("failed printing to stdout") and could leave
    // only some of the outputs.
    let dir = tempfile::tempdir().unwrap();
    let weights = fixture("vgg16_tiny.pth");
    let image = fixture("scene.png");
    let out = dir.path().join("out");
    let mut args = fixture_args(out.to_str().unwrap(), &[image.to_str().unwrap()]);
    args.extend(["--weights", weights.to_str().unwrap()]);
    let output = with_closed_stdout(env!("CARGO_BIN_EXE_explain"), dir.path(), &args);
    assert!(output.status.success(), "{:?}: {}", output.status, stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    assert_eq!(
        files_in(&out),
        ["scene_c142_gradient_x_input.npy", "scene_c142_lrp.npy", "scene_c142_panel.png"],
        "every output, and no temporary file"
    );
    assert_eq!(npy_values(&out.join("scene_c142_lrp.npy")).len(), 3 * 224 * 224);
    assert_eq!(image::open(out.join("scene_c142_panel.png")).unwrap().width(), 3 * 224 + 2 * 8);

    // The scene mode and evaluate print after their work too.
    let scenes = dir.path().join("scenes");
    let output = with_closed_stdout(
        env!("CARGO_BIN_EXE_explain"),
        dir.path(),
        &["--scenes", "1", "--out", scenes.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(files_in(&scenes).len(), 1, "{:?}", files_in(&scenes));
    let table = dir.path().join("table");
    let output = with_closed_stdout(
        env!("CARGO_BIN_EXE_evaluate"),
        dir.path(),
        &["--scenes", "2", "--steps", "2", "--out", table.to_str().unwrap()],
    );
    assert!(output.status.success(), "evaluate: {}", stderr(&output));
    assert!(files_in(&table).contains(&"evaluation.csv".to_string()), "{:?}", files_in(&table));
}

#[test]
fn a_truncated_jpeg_is_an_error_that_says_so() {
    // Item 2: the first half of a valid JPEG was explained with rc 0, its missing half grey.
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.jpg");
    scene_as_jpeg(&whole);
    let bytes = std::fs::read(&whole).unwrap();
    let half = dir.path().join("half.jpg");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let output = explain_fixture(dir.path(), &["--image", half.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("truncated"), "{}", stderr(&output));
    assert!(!dir.path().join("out").exists(), "a failing run creates no directory");
    let output = explain_fixture(dir.path(), &["--image", whole.to_str().unwrap()]);
    assert!(output.status.success(), "the whole JPEG is fine: {}", stderr(&output));
}

#[test]
fn outputs_are_named_by_image_class_and_method_and_never_overwritten_silently() {
    // Item 3: ok.png then ok.jpg, or two classes of one image, overwrote each other.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("ok.png");
    std::fs::copy(fixture("scene.png"), &png).unwrap();
    let jpg = dir.path().join("ok.jpg");
    scene_as_jpeg(&jpg);
    let weights = fixture("vgg16_tiny.pth");
    let out = dir.path().join("out");
    let out_text = out.to_str().unwrap();
    let mut args = fixture_args(out_text, &[png.to_str().unwrap(), jpg.to_str().unwrap()]);
    args.extend(["--weights", weights.to_str().unwrap(), "--method", "lrp"]);
    let output = explain(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    args.extend(["--class", "483"]);
    let output = explain(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let files = files_in(&out);
    for want in ["ok_png_c142_lrp.npy", "ok_jpg_c142_lrp.npy", "ok_png_c483_lrp.npy", "ok_jpg_c483_panel.png"]
    {
        assert!(files.contains(&want.to_string()), "{want} missing from {files:?}");
    }
    assert_eq!(files.len(), 8, "{files:?}");
    // --help says what is written.
    let help = stdout(&explain(dir.path(), &["--help"]));
    assert!(help.contains("STEM_cC_panel.png") && help.contains("STEM_cC_METHOD.npy"), "{help}");
}

#[test]
fn a_failing_run_writes_nothing_and_creates_no_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new/out");
    // Fails after the image is read, when the weights do not fit the architecture.
    let output = explain_fixture(dir.path(), &["--out", out.to_str().unwrap(), "--arch", "vgg16"]);
    assert!(!output.status.success());
    assert!(!dir.path().join("new").exists(), "{:?}", files_in(dir.path()));
    // A failing scene run (an empty batch of outputs never starts) leaves nothing either.
    let output = explain(dir.path(), &["--seed", "5", "--out", out.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(!dir.path().join("new").exists());
}

#[test]
fn class_names_prefer_exact_case_and_ambiguity_lists_the_candidates() {
    // Item 4: `--class cardigan` explained 264 "Cardigan" (the corgi).
    let dir = tempfile::tempdir().unwrap();
    let output = explain_fixture(dir.path(), &["--class", "cardigan", "--method", "gradient"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("explaining class 474 (cardigan)"), "{}", stdout(&output));
    let cases: [(&str, &[&str]); 3] = [
        ("CARDIGAN", &["ambiguous", "264 \"Cardigan\"", "474 \"cardigan\""]),
        ("-1", &["negative", "0..=999"]),
        ("99999999999999999999999", &["0..=999"]),
    ];
    for (class, says) in cases {
        let output = explain_fixture(dir.path(), &["--class", class]);
        assert!(!output.status.success(), "--class {class}");
        let message = stderr(&output);
        for part in says {
            assert!(message.contains(part), "--class {class}: {part:?} not in {message}");
        }
        assert!(!message.contains("no ImageNet class is called"), "not looked up as a name: {message}");
    }
}

#[test]
fn image_arguments_are_checked_before_the_weights_are_loaded() {
    // Item 13: a bad --image was reported only after 528 MB of weights were loaded. With both
    // a bad image and weights that cannot be read, the image is reported.
    let dir = tempfile::tempdir().unwrap();
    let not_weights = dir.path().join("weights.pth");
    std::fs::write(&not_weights, "hello").unwrap();
    let output = explain_fixture(
        dir.path(),
        &["--image", "/nonexistent/photo.png", "--weights", not_weights.to_str().unwrap()],
    );
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains("/nonexistent/photo.png"), "{message}");
    assert!(!message.contains("weights.pth"), "the weights were not read first: {message}");
    // …and the OS error is printed once, not once per level of the chain.
    assert_eq!(message.matches("No such file or directory").count(), 1, "{message}");
}

#[test]
fn gamma_takes_commas_or_spaces_and_help_shows_the_default_with_commas() {
    // Item 13: --help showed the default space-separated; the parser took only commas.
    let dir = tempfile::tempdir().unwrap();
    let spaced =
        explain_fixture(dir.path(), &["--method", "lrp", "--gamma", "0.1", "0.2", "0.1", "0.05", "0.01"]);
    assert!(spaced.status.success(), "{}", stderr(&spaced));
    let help = stdout(&explain(dir.path(), &["--help"]));
    assert!(help.contains("[default: 0.25,0.25,0.1,0.05,0.01]"), "{help}");
}

#[test]
fn seeds_and_counts_are_bounded_with_the_bound_stated() {
    // Items 9 and 13: --seed wrapped into the training seeds; --scenes 0 exited 0 having
    // written nothing.
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--images-from", "/dev/zero"], "not a regular file"),
        (&["--seed", "18446744073709551615"], "test seeds"),
        (&["--seed", "12"], "test seeds"),
        (&["--scenes", "0"], "1..=1000"),
        (&["--scenes", "18446744073709551616"], "1..=1000"),
    ];
    for (args, says) in cases {
        let output = explain(dir.path(), args);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr(&output).contains(says), "{args:?}: {}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
    assert!(files_in(dir.path()).is_empty(), "nothing written: {:?}", files_in(dir.path()));
}

#[test]
fn evaluate_bounds_its_arguments_and_checks_its_output_directory_first() {
    // Item 9: --steps u64::MAX panicked, --steps 100000 hung, --seed u64::MAX wrapped, and a
    // bad --out failed only after minutes of work.
    let dir = tempfile::tempdir().unwrap();
    let evaluate = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_evaluate")).args(args).current_dir(dir.path()).output().unwrap()
    };
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under_a_file = file.join("x");
    let cases: [(Vec<&str>, &str); 6] = [
        (vec!["--steps", "18446744073709551615"], "1..=100"),
        (vec!["--steps", "100000"], "1..=100"),
        (vec!["--seed", "18446744073709551615"], "test seeds"),
        (vec!["--scenes", "1"], "2..=100000"),
        (vec!["--batch", "0"], "1..=500"),
        // The output directory is checked before the weights are even read.
        (
            vec!["--out", under_a_file.to_str().unwrap(), "--weights", "/nonexistent.safetensors"],
            "not a directory",
        ),
    ];
    for (args, says) in cases {
        let output = evaluate(&args);
        assert!(!output.status.success(), "{args:?}");
        let message = stderr(&output);
        assert!(message.to_lowercase().contains(says), "{args:?}: {says:?} not in {message}");
        assert!(!message.contains("panicked"), "{message}");
    }
    let help = String::from_utf8_lossy(&evaluate(&["--help"]).stdout).into_owned();
    assert!(help.contains("source tree"), "--help says where the files go by default: {help}");
}

#[test]
fn a_directory_is_explained_in_batches_with_bad_images_reported_and_skipped() {
    // The batch explanation: a directory and a list, one weights load, per-image failures
    // reported without losing the others, a summary, a non-zero exit when some failed.
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for name in ["a.png", "b.png", "c.png"] {
        std::fs::copy(fixture("scene.png"), photos.join(name)).unwrap();
    }
    std::fs::write(photos.join("broken.png"), b"not a picture").unwrap();
    std::fs::write(photos.join("notes.txt"), b"not an image name: ignored").unwrap();
    let list = dir.path().join("list.txt");
    let d = fixture("scene.png");
    std::fs::write(&list, format!("# one more\n\n{}\n/nonexistent/e.png\n", d.display())).unwrap();
    let weights = fixture("vgg16_tiny.pth");
    let out = dir.path().join("out");
    let out_text = out.to_str().unwrap();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = fixture_args(out_text, &[photos.to_str().unwrap()])
            .into_iter()
            .chain(["--images-from", list.to_str().unwrap(), "--weights", weights.to_str().unwrap()])
            .chain(["--method", "lrp", "--batch", "2"])
            .map(String::from)
            .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let run = |extra: &[&str]| {
        let args = args(extra);
        explain(dir.path(), &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let first = run(&[]);
    assert_eq!(first.status.code(), Some(1), "some images failed: {}", stderr(&first));
    let text = stdout(&first);
    assert!(text.contains("6 images: 4 explained"), "{text}");
    assert!(text.contains("0 skipped") && text.contains("2 failed"), "{text}");
    let errors = stderr(&first);
    assert!(errors.contains("broken.png") && errors.contains("/nonexistent/e.png"), "{errors}");
    let files = files_in(&out);
    for stem in ["a", "b", "c", "scene"] {
        for kind in ["lrp.npy", "panel.png"] {
            assert!(files.contains(&format!("{stem}_c142_{kind}")), "{stem} {kind}: {files:?}");
        }
    }
    assert_eq!(files.len(), 8, "{files:?}");

    // Batched and one by one agree.
    let single = dir.path().join("single");
    let output = explain_fixture(
        dir.path(),
        &[
            "--out",
            single.to_str().unwrap(),
            "--method",
            "lrp",
            "--batch",
            "1",
            "--image",
            photos.join("b.png").to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let (batched, alone) =
        (npy_values(&out.join("b_c142_lrp.npy")), npy_values(&single.join("b_c142_lrp.npy")));
    let scale = alone.iter().map(|v| v.abs()).fold(0f32, f32::max);
    let worst = batched.iter().zip(&alone).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst <= 1e-5 * scale, "batch vs alone: {worst} of {scale}");

    // A re-run skips what exists; --force explains again.
    let again = run(&[]);
    assert!(
        stdout(&again).contains("0 explained") && stdout(&again).contains("4 skipped"),
        "{}",
        stdout(&again)
    );
    let modified = std::fs::metadata(out.join("a_c142_lrp.npy")).unwrap().modified().unwrap();
    let forced = run(&["--force"]);
    assert!(stdout(&forced).contains("4 explained"), "{}", stdout(&forced));
    assert!(std::fs::metadata(out.join("a_c142_lrp.npy")).unwrap().modified().unwrap() >= modified);
}

/// `--composite` picks a preset: its relevance is the library's for the same preset and
/// parameters, in a file named after it.
#[test]
fn a_composite_by_name_is_the_librarys_preset() {
    use explainer::{Attributor, Lrp, Preset, PresetOptions, Vgg, VggConfig};
    let dir = tempfile::tempdir().unwrap();
    let args = ["--method", "lrp", "--class", "483", "--composite", "epsilon_gamma_box", "--epsilon", "0.01"];
    let output = explain_fixture(dir.path(), &[&args[..], &["--gamma", "0.5"]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    let ours = npy_values(&dir.path().join("out/scene_c483_lrp_epsilon_gamma_box.npy"));
    let device = candle_core::Device::Cpu;
    let model =
        Vgg::load(&fixture("vgg16_tiny.pth"), &VggConfig::vgg16_tiny(), &device, candle_core::DType::F32)
            .unwrap();
    let (x, _) =
        explainer::image::load_input(&fixture("scene.png"), &device, candle_core::DType::F32).unwrap();
    let options = PresetOptions { epsilon: Some(0.01), gamma: Some(vec![0.5]), alpha: None };
    let lrp = Lrp::new(Preset::EpsilonGammaBox.composite(&options).unwrap());
    let expected = lrp.attribute(&model, &x, 483).unwrap().relevance;
    let expected = expected.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(ours, expected, "the CLI writes the library's relevance");
    let sheet = explain_fixture(dir.path(), &["--method", "lrp", "--class", "483"]);
    assert!(sheet.status.success(), "{}", stderr(&sheet));
    assert_ne!(npy_values(&dir.path().join("out/scene_c483_lrp.npy")), ours);
}

/// Parameters that the chosen method or composite does not take are errors that say why;
/// `--list-composites` names every composite and what it takes.
#[test]
fn composite_flags_the_method_does_not_take_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--method", "gradient", "--epsilon", "0.1"], "--epsilon sets LRP"),
        (&["--method", "gradient-x-input", "--composite", "epsilon_plus"], "--composite sets LRP"),
        (&["--method", "lrp", "--composite", "epsilon_gamma_box", "--alpha", "3"], "takes no alpha"),
        (&["--method", "lrp", "--composite", "epsilon_plus", "--gamma", "0.1"], "takes no gamma"),
        (
            &["--method", "lrp", "--composite", "epsilon_gama_box"],
            "the composites are sheet, epsilon_gamma_box",
        ),
    ];
    for (args, says) in cases {
        let output = explain_fixture(dir.path(), args);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr(&output).contains(says), "{args:?}: {}", stderr(&output));
    }
    assert!(files_in(dir.path()).is_empty(), "nothing written: {:?}", files_in(dir.path()));
    let list = stdout(&explain(dir.path(), &["--list-composites"]));
    for name in
        ["sheet", "epsilon_gamma_box", "epsilon_plus", "epsilon_plus_flat", "epsilon_alpha2_beta1_flat"]
    {
        assert!(list.contains(name), "{name} not in {list}");
    }
    assert!(list.contains("(takes --epsilon, --alpha)"), "{list}");
}

// ---- issue 16: SmoothGrad, Integrated Gradients and Occlusion on the command line ----

#[test]
fn the_new_methods_explain_scenes_and_integrated_gradients_print_their_completeness() {
    let dir = tempfile::tempdir().unwrap();
    for (method, name) in [
        ("smooth-grad", "smooth_grad"),
        ("smooth-grad-x-input", "smooth_grad_x_input"),
        ("integrated-gradients", "integrated_gradients"),
        ("occlusion", "occlusion"),
    ] {
        let out = dir.path().join(name);
        let output = explain(
            dir.path(),
            &["--scenes", "2", "--method", method, "--samples", "4", "--out", out.to_str().unwrap()],
        );
        assert!(output.status.success(), "{method}: {}", stderr(&output));
        let text = stdout(&output);
        assert!(text.contains(&format!("Σ {name}")), "{method}: {text}");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2, "{method}: two panels");
        // Completeness: printed for Integrated Gradients only, within 1 % at the default nodes.
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("completeness")).collect();
        assert_eq!(lines.len(), if name == "integrated_gradients" { 2 } else { 0 }, "{text}");
        for line in lines {
            let end = line.find(" % of").unwrap();
            let start = line[..end].rfind('(').unwrap() + 1;
            let percent: f64 = line[start..end].parse().unwrap();
            assert!(percent < 1.0, "{line}");
        }
    }
    let output = explain(dir.path(), &["--method", "occlusion", "--patch", "4", "--stride", "5"]);
    assert!(!output.status.success() && stderr(&output).contains("--stride"), "{}", stderr(&output));
    let output = explain(dir.path(), &["--method", "smooth-grad", "--composite", "epsilon_plus"]);
    assert!(!output.status.success() && stderr(&output).contains("computes no LRP"), "{}", stderr(&output));
}

// ---- issue 12: ResNets ----

/// The book's ResNet panel (`book/src/explaining-a-resnet.md`): the command it shows, run here,
/// draws the committed panel byte for byte.
#[test]
fn resnet_panel_is_what_explain_draws() {
    let dir = tempfile::tempdir().unwrap();
    let weights = fixture("resnet18_narrow.safetensors");
    let image = fixture("scene.png");
    let out = dir.path().join("resnet");
    let output = explain(
        dir.path(),
        &[
            "--arch",
            "resnet18-narrow",
            "--weights",
            weights.to_str().unwrap(),
            "--image",
            image.to_str().unwrap(),
            "--class",
            "3",
            "--composite",
            "epsilon_gamma_box",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let book = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../book/src/resnet/scene_c3_panel.png");
    let drawn = std::fs::read(out.join("scene_c3_panel.png")).unwrap();
    assert!(
        drawn == std::fs::read(&book).unwrap(),
        "the book's panel is stale: rerun the command in {}",
        book.display()
    );
    let lrp = npy_values(&out.join("scene_c3_lrp_epsilon_gamma_box.npy"));
    assert_eq!(lrp.len(), 3 * 224 * 224);
    assert!(lrp.iter().all(|v| v.is_finite()) && lrp.iter().any(|v| *v != 0.0));
}

#[test]
fn resnet_weights_are_found_in_the_cache_or_said_how_to_get() {
    let dir = tempfile::tempdir().unwrap();
    let image = fixture("scene.png");
    let output = explain(dir.path(), &["--arch", "resnet50", "--image", image.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("resnet50-11ad3fa6.pth"), "{message}");
    assert!(message.contains("torchvision.models.resnet50(weights="), "{message}");
    assert!(message.contains("huggingface.co/timm/resnet50"), "{message}");
    // The narrow fixture under ResNet-18's cache name: found, then refused as the wrong shapes.
    let cache = dir.path().join("torch/hub/checkpoints");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::copy(fixture("resnet18_narrow.pth"), cache.join("resnet18-f37072fd.pth")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_explain"))
        .args(["--arch", "resnet18", "--image", image.to_str().unwrap()])
        .args(["--out", dir.path().join("o").to_str().unwrap()])
        .env("TORCH_HOME", dir.path().join("torch"))
        .output()
        .unwrap();
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains("resnet18-f37072fd.pth"), "{message}");
    assert!(
        message.contains("mis-shaped conv1.weight: [8, 3, 7, 7] in the file, expected [64, 3, 7, 7]"),
        "{message}"
    );
}
