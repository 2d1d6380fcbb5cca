//! End to end, as a user runs it: `explain --image IMG --weights vgg16.safetensors --method all`
//! as a whole process against a Python process that does the same with the sheet's code
//! (`explainer/bench/end_to_end_reference.py`), both timed from outside, several runs each.
//!
//! ```sh
//! cargo bench -p explainer --bench end_to_end -- --python /work/torchvenv/bin/python --runs 5
//! RAYON_NUM_THREADS=2 XAI_PYTHON=/work/torchvenv/bin/python cargo bench -p explainer --bench end_to_end
//! ```
//!
//! 1. Python writes a full-size VGG-16 with seeded random weights into a temporary directory
//!    (`explainer/bench/make_vgg16_weights.py`): `vgg16.safetensors` and `vgg16.pth`, the same
//!    tensors under torchvision's names (no download).
//! 2. One untimed warm-up of each side (the files enter the page cache, Python compiles its
//!    bytecode), then `--runs` runs of each, interleaved and alternating which goes first:
//!    - ours: the `explain` binary of this build (`CARGO_BIN_EXE_explain`) with
//!      `--image fixtures/scene.png --weights vgg16.safetensors --method all --force --out DIR`,
//!      `RAYON_NUM_THREADS` = the bench's threads; it writes `scene_cC_panel.png`,
//!      `scene_cC_gradient_x_input.npy` and `scene_cC_lrp.npy` for the predicted class C;
//!    - Python: `end_to_end_reference.py --image fixtures/scene.png --weights vgg16.pth
//!      --threads T --out DIR` (torch.load; `--python-safetensors` gives it the `.safetensors`
//!      file instead), writing the same three files.
//!
//!    Each child runs under `/usr/bin/time -f "%M %U %S"`, which gives its peak resident memory
//!    and CPU time; the wall time is measured around the child. Printed: every run, the
//!    medians, the ratio of the medians (ours / Python) and the median of the per-pair ratios.
//! 3. The relevance both wrote must agree: the relative L2 distance `‖ours − py‖ / ‖py‖` of
//!    Gradient×Input and of LRP (float32 on both sides; ours uses Winograd convolutions, PyTorch
//!    direct ones, so they differ by rounding), and both must explain the same class.
//! 4. Where our process's time goes: the steps `explain` takes, made with the same library
//!    calls and timed one by one (loading the weights, the image, the classifying forward
//!    pass, Gradient×Input and LRP each prepared and called once, which makes their kernels,
//!    writing the files) in a fresh process (this bench run again as `end_to_end
//!    --breakdown-child WEIGHTS IMAGE OUT`), `--runs` times; medians of each step's wall time
//!    and of the process's CPU time over it (all threads; on a busy machine the steadier of the
//!    two) and of the peak resident memory when it ended, beside the whole-process time of
//!    `explain --version` (start-up and exit alone).
//!    For comparison, steps `explain` does not take, made afterwards in the same child: a
//!    prepared model's forward pass called twice (the second reuses the kernels the first
//!    made), each method called a second time with the model's kernels kept (a rule's modified
//!    kernels are made on every call), and reading the weights file into memory once (the least
//!    loading costs).
//!
//! Threads: `RAYON_NUM_THREADS` if set, else the core count; the same number for both sides.
//! Needs Python (`--python PATH` or `XAI_PYTHON`) with torch, torchvision, safetensors, numpy
//! and PIL. Without `/usr/bin/time` peak memory and CPU time are not reported.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use candle_core::{DType, Device, Tensor};
use common::{
    ChildRun, cpu_seconds, json_number, load_average, median, peak_rss_mb, relative_l2, run_whole_process,
};
use explainer::arguments::Architecture;
use explainer::attribution::AnyAttributor;
use explainer::heatmap::{RelevanceMap, Tile, titled_panel};
use explainer::output_files::OutputSet;
use explainer::{
    Canonization, GradientTimesInput, Lrp, Preset, PresetOptions, classes, image, npy, prediction,
};

/// mimalloc keeps freed memory for reuse (as in `explain`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Default number of timed runs of each side.
const RUNS: usize = 5;
/// The bench's first argument when it runs as the child that times explain's steps.
const BREAKDOWN_CHILD: &str = "--breakdown-child";

struct Args {
    runs: usize,
    python: Option<PathBuf>,
    python_safetensors: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        runs: RUNS,
        python: std::env::var_os("XAI_PYTHON").map(PathBuf::from),
        python_safetensors: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                args.runs = it.next().context("--runs needs a value")?.parse()?;
                ensure!(args.runs > 0, "--runs must be at least 1");
            }
            "--python" => args.python = Some(it.next().context("--python needs a path")?.into()),
            "--python-safetensors" => args.python_safetensors = true,
            "--bench" => {} // passed by `cargo bench`
            other => bail!("unknown argument {other}; use --runs N, --python PATH, --python-safetensors"),
        }
    }
    Ok(args)
}

/// The file in `dir` whose name ends in `suffix` (exactly one), and the class in its name
/// (`STEM_cC_suffix`).
fn output_with_suffix(dir: &Path, suffix: &str) -> anyhow::Result<(PathBuf, usize)> {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(suffix)))
        .collect();
    let [path] = found.as_slice() else {
        bail!("{} holds {} files ending in {suffix}, expected one", dir.display(), found.len())
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let class = name
        .strip_suffix(suffix)
        .and_then(|s| s.rsplit_once("_c"))
        .and_then(|(_, c)| c.parse().ok())
        .with_context(|| format!("no class in {name}"))?;
    Ok((path.clone(), class))
}

/// One timed step: its name, wall time and this process's CPU time (all threads), in seconds,
/// and the process's peak resident memory when it ended, in MB.
type Step = (String, f64, f64, f64);

/// Runs `f` and records its wall and CPU time and the peak memory after it under `name` in
/// `steps`.
fn timed<T>(steps: &mut Vec<Step>, name: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let value = f()?;
    let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    steps.push((name.to_string(), wall, cpu, peak_rss_mb().unwrap_or(f64::NAN)));
    Ok(value)
}

/// `explain`'s steps for one image and `--method all`, each timed (see the module docs), in
/// this process, which must be fresh (`--breakdown-child`): one line per step on stdout,
/// `step<TAB>NAME<TAB>WALL<TAB>CPU` (seconds) for explain's steps, then `extra<TAB>…` for the steps explain
/// does not take, made after all of explain's so as not to warm its memory. Writes the
/// `.npy` files and the panel into `out`.
fn breakdown(weights: &Path, picture: &Path, out: &Path) -> anyhow::Result<()> {
    let device = Device::Cpu;
    let mut steps = Vec::new();
    let model = timed(&mut steps, "load weights (safetensors)", || {
        Ok(Architecture::Vgg16.load(weights, &device, DType::F32, Canonization::Exact)?)
    })?;
    let (x, crop) = timed(&mut steps, "read and preprocess the image", || {
        image::check_image_file(picture)?;
        Ok(image::load_input(picture, &device, DType::F32)?)
    })?;
    let names = classes::imagenet_classes();
    let (logits, class) = timed(&mut steps, "classify (forward, kernels for one call)", || {
        let logits = model.forward(&x)?;
        let class = prediction::top_predictions(&logits, 0, &names, 1)?[0].class;
        Ok((logits, class))
    })?;
    let lrp = Lrp::new(Preset::Sheet.composite(&PresetOptions::default())?);
    let methods: [(&str, &dyn AnyAttributor); 2] = [("gradient_x_input", &GradientTimesInput), ("lrp", &lrp)];
    let mut relevance = Vec::new();
    for (name, attributor) in methods {
        // As explain: prepared, called once, dropped.
        let prepared =
            timed(&mut steps, &format!("{name}: prepare"), || Ok(attributor.prepare_any(&model)?))?;
        let r = timed(&mut steps, &format!("{name}: first call (makes the model's kernels)"), || {
            Ok(prepared.attribute(&x, class)?.relevance)
        })?;
        relevance.push((name, r));
    }
    timed(&mut steps, "write the .npy files and the panel", || {
        let mut outputs = OutputSet::new();
        let top = prediction::top_predictions(&logits, 0, &names, 5)?;
        let logit = top.iter().find(|p| p.class == class).map_or(0.0, |p| p.logit);
        let class_title = format!("class {class}");
        let logit_title = format!("logit {logit:.4}");
        let mut tiles = vec![Tile::picture(crop.clone(), &[&class_title, &logit_title])];
        for (name, r) in &relevance {
            let map = RelevanceMap::from_tensor(r, 0)?;
            outputs.add(out.join(format!("scene_c{class}_{name}.npy")), npy::to_npy_bytes(r)?);
            let sum = format!("ΣR = {:.4}", map.sum());
            tiles.push(Tile::heatmap(&map, &[name, &sum], 1));
        }
        let mut png = Vec::new();
        titled_panel(&tiles)?.write_to(&mut std::io::Cursor::new(&mut png), ::image::ImageFormat::Png)?;
        outputs.add(out.join(format!("scene_c{class}_panel.png")), png);
        outputs.commit()?;
        Ok(())
    })?;
    drop(relevance);

    // Steps explain does not take: what the passes cost without making kernels, and reading
    // the weights file into memory once (the least a load can cost).
    let mut extra = Vec::new();
    let kept = model.prepare()?;
    timed(&mut extra, "forward, first call of a prepared model", || Ok(kept.forward(&x)?))?;
    timed(&mut extra, "forward, second call: its kernels kept", || Ok(kept.forward(&x)?))?;
    drop(kept);
    for (name, attributor) in methods {
        let prepared = attributor.prepare_any(&model)?;
        prepared.attribute(&x, class)?;
        timed(&mut extra, &format!("{name}: second call, the model's kernels kept"), || {
            Ok(prepared.attribute(&x, class)?.relevance)
        })?;
    }
    drop(model);
    timed(&mut extra, "read the weights file into memory, once", || Ok(std::fs::read(weights)?.len()))?;
    for (kind, list) in [("step", steps), ("extra", extra)] {
        for (name, wall, cpu, rss) in list {
            println!("{kind}\t{name}\t{wall}\t{cpu}\t{rss}");
        }
    }
    Ok(())
}

/// The steps of `kind` that [`breakdown`] printed.
fn breakdown_lines(stdout: &str, kind: &str) -> Vec<Step> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            (fields.next() == Some(kind)).then_some(())?;
            let name = fields.next()?.to_string();
            let mut number = || fields.next()?.parse().ok();
            Some((name, number()?, number()?, number()?))
        })
        .collect()
}

/// The medians of one side's runs, as a line.
fn summary(name: &str, runs: &[ChildRun]) -> String {
    let wall = median(runs.iter().map(|r| r.wall_s));
    let rss = median(runs.iter().filter_map(|r| r.peak_rss_mb));
    let cpu = median(runs.iter().filter_map(|r| r.cpu_s));
    format!("{name:<8} wall {wall:6.2} s   CPU {cpu:6.2} s ({:.2} cores)   peak RSS {rss:6.0} MB", cpu / wall)
}

fn main() -> anyhow::Result<()> {
    // A fresh process for the step-by-step timing, started by the bench itself.
    let argv: Vec<String> = std::env::args().collect();
    if let [_, flag, weights, picture, out] = argv.as_slice()
        && flag == BREAKDOWN_CHILD
    {
        return breakdown(Path::new(weights), Path::new(picture), Path::new(out));
    }
    let args = args()?;
    let Some(python) = &args.python else {
        bail!("the end-to-end bench needs Python with torch: --python PATH or XAI_PYTHON")
    };
    let threads = candle_core::utils::get_num_threads();
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let explain = PathBuf::from(env!("CARGO_BIN_EXE_explain"));
    let picture = here.join("fixtures").join("scene.png");
    let script = here.join("bench").join("end_to_end_reference.py");
    let temp = tempfile::tempdir()?;
    let (ours_out, python_out) = (temp.path().join("ours"), temp.path().join("python"));

    println!("load average at the start: {:.2}", load_average().unwrap_or(f64::NAN));
    let t = Instant::now();
    let made = std::process::Command::new(python)
        .arg(here.join("bench").join("make_vgg16_weights.py"))
        .arg("--out")
        .arg(temp.path())
        .output()?;
    ensure!(made.status.success(), "make_vgg16_weights.py failed: {}", String::from_utf8_lossy(&made.stderr));
    println!("weights made by Python in {:.1} s into {}", t.elapsed().as_secs_f64(), temp.path().display());
    let safetensors = temp.path().join("vgg16.safetensors");
    let python_weights =
        temp.path().join(if args.python_safetensors { "vgg16.safetensors" } else { "vgg16.pth" });

    let ours_command = |out: &Path| -> Vec<String> {
        let mut c = vec![explain.display().to_string()];
        c.extend(
            ["--image", &picture.display().to_string(), "--weights", &safetensors.display().to_string()]
                .map(String::from),
        );
        c.extend(["--method", "all", "--force", "--out", &out.display().to_string()].map(String::from));
        c
    };
    let python_command = |out: &Path| -> Vec<String> {
        let mut c = vec![python.display().to_string(), script.display().to_string()];
        c.extend(
            ["--image", &picture.display().to_string(), "--weights", &python_weights.display().to_string()]
                .map(String::from),
        );
        c.extend(["--threads", &threads.to_string(), "--out", &out.display().to_string()].map(String::from));
        c
    };
    let env = [("RAYON_NUM_THREADS", threads.to_string())];
    println!("{threads} threads on both sides; {} runs each, interleaved, after one warm-up each", args.runs);
    println!("ours:   RAYON_NUM_THREADS={threads} {}", ours_command(&ours_out).join(" "));
    println!("python: {}", python_command(&python_out).join(" "));

    let run_ours = || run_whole_process(&ours_command(&ours_out), &env);
    let run_python = || run_whole_process(&python_command(&python_out), &env);
    let warm = (run_ours()?, run_python()?);
    println!("warm-up (not counted): ours {:.2} s, python {:.2} s", warm.0.wall_s, warm.1.wall_s);
    let (mut ours, mut py) = (Vec::new(), Vec::new());
    for i in 0..args.runs {
        if i % 2 == 0 {
            ours.push(run_ours()?);
            py.push(run_python()?);
        } else {
            py.push(run_python()?);
            ours.push(run_ours()?);
        }
        let (o, p) = (&ours[i], &py[i]);
        println!(
            "run {}: ours {:.2} s ({:.0} MB), python {:.2} s ({:.0} MB), ratio {:.3}, load {:.2}",
            i + 1,
            o.wall_s,
            o.peak_rss_mb.unwrap_or(f64::NAN),
            p.wall_s,
            p.peak_rss_mb.unwrap_or(f64::NAN),
            o.wall_s / p.wall_s,
            load_average().unwrap_or(f64::NAN)
        );
    }
    println!("medians over {} runs:", args.runs);
    println!("  {}", summary("ours", &ours));
    println!("  {}", summary("python", &py));
    let (wall_ours, wall_py) = (median(ours.iter().map(|r| r.wall_s)), median(py.iter().map(|r| r.wall_s)));
    let rss = |runs: &[ChildRun]| median(runs.iter().filter_map(|r| r.peak_rss_mb));
    println!(
        "  ratio ours/python: wall {:.3} (median of per-run ratios {:.3}), peak RSS {:.3}",
        wall_ours / wall_py,
        median(ours.iter().zip(&py).map(|(o, p)| o.wall_s / p.wall_s)),
        rss(&ours) / rss(&py)
    );
    if let Some(last) = py.last() {
        let steps = ["imports_s", "load_weights_s", "preprocess_s", "forward_s", "gradient_x_input_s"]
            .into_iter()
            .chain(["make_lrpmodel_s", "lrp_s", "write_s", "total_in_process_s"]);
        let parts: Vec<String> = steps
            .filter_map(|k| {
                json_number(&last.stdout, k).map(|v| format!("{} {v:.2}", k.trim_end_matches("_s")))
            })
            .collect();
        println!("  python's last run, inside the process (s): {}", parts.join(", "));
    }
    // torch's import is a large share of Python's time (more with a CUDA build of torch):
    // the comparison without it, for a reader whose torch imports faster.
    let after_imports =
        median(py.iter().filter_map(|r| Some(r.wall_s - json_number(&r.stdout, "imports_s")?)));
    println!(
        "  python without its imports (wall − imports_s): median {after_imports:.2} s; ratio ours/that {:.3}",
        wall_ours / after_imports
    );

    // The two processes did the same work: same class, same relevance up to rounding.
    let (ours_gxi, class_ours) = output_with_suffix(&ours_out, "_gradient_x_input.npy")?;
    let (py_gxi, class_py) = output_with_suffix(&python_out, "_gradient_x_input.npy")?;
    ensure!(class_ours == class_py, "ours explained class {class_ours}, python class {class_py}");
    let (ours_lrp, _) = output_with_suffix(&ours_out, "_lrp.npy")?;
    let (py_lrp, _) = output_with_suffix(&python_out, "_lrp.npy")?;
    let gxi = relative_l2(&Tensor::read_npy(&ours_gxi)?, &Tensor::read_npy(&py_gxi)?)?;
    let lrp_py = Tensor::read_npy(&py_lrp)?;
    let lrp = relative_l2(&Tensor::read_npy(&ours_lrp)?, &lrp_py)?;
    println!("agreement (class {class_ours}, float32, relative L2 ‖ours − python‖/‖python‖):");
    println!("  gradient×input {gxi:.2e}   lrp {lrp:.2e}");

    // Where our process's time goes: explain's steps in a fresh process, `runs` times.
    let bench = std::env::current_exe()?;
    let replica_out = temp.path().join("replica");
    let mut startup = Vec::new();
    let (mut steps, mut extra) = (Vec::new(), Vec::new());
    let mut replica_rss = Vec::new();
    for _ in 0..args.runs {
        startup.push(run_whole_process(&[explain.display().to_string(), "--version".into()], &env)?.wall_s);
        let child: Vec<String> =
            [bench.as_path(), Path::new(BREAKDOWN_CHILD), &safetensors, &picture, &replica_out]
                .iter()
                .map(|p| p.display().to_string())
                .collect();
        let run = run_whole_process(&child, &env)?;
        steps.push(breakdown_lines(&run.stdout, "step"));
        extra.push(breakdown_lines(&run.stdout, "extra"));
        replica_rss.extend(run.peak_rss_mb);
    }
    let medians = |runs: &[Vec<Step>]| -> Vec<Step> {
        let names =
            runs.first().map(|r| r.iter().map(|s| s.0.clone()).collect::<Vec<_>>()).unwrap_or_default();
        let column = |k: usize, get: fn(&Step) -> f64| median(runs.iter().filter_map(|r| r.get(k).map(get)));
        let step = |(k, n)| (n, column(k, |s| s.1), column(k, |s| s.2), column(k, |s| s.3));
        names.into_iter().enumerate().map(step).collect()
    };
    println!(
        "our process, step by step (explain's library calls in a fresh process; medians of {} runs):",
        args.runs
    );
    println!("  {:<56} {:>8} {:>8} {:>14}", "", "wall s", "CPU s", "peak RSS after");
    let startup = median(startup);
    println!("  {:<56} {startup:8.3}", "process start-up and exit (explain --version)");
    let (mut wall, mut cpu) = (startup, 0.0);
    for (name, w, c, rss) in medians(&steps) {
        (wall, cpu) = (wall + w, cpu + c);
        println!("  {name:<56} {w:8.3} {c:8.3} {rss:11.0} MB");
    }
    let whole_cpu = median(ours.iter().filter_map(|r| r.cpu_s));
    println!("  {:<56} {wall:8.3} {cpu:8.3}   (the whole process: {wall_ours:.3}, {whole_cpu:.3})", "sum");
    println!("for comparison, steps explain does not take:");
    for (name, w, c, _) in medians(&extra) {
        println!("  {name:<56} {w:8.3} {c:8.3}");
    }
    let (replica_lrp, _) = output_with_suffix(&replica_out, "_lrp.npy")?;
    println!(
        "the replica: peak RSS {:.0} MB (median, with the extra steps); its LRP against explain's: relative L2 \
         {:.2e}",
        median(replica_rss),
        relative_l2(&Tensor::read_npy(&replica_lrp)?, &Tensor::read_npy(&ours_lrp)?)?
    );
    println!("load average at the end: {:.2}", load_average().unwrap_or(f64::NAN));
    Ok(())
}
