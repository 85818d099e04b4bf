//! PP-OCR's ONNX models in ONNX Runtime (ort, dynamic) and in tract: do
//! they load, do they agree, how fast? Same deterministic inputs for both,
//! one thread each (Heron runs one model run per extraction child).
//!   tract-probe MODELS_DIR
use std::path::Path;
use std::time::Instant;

use ort::session::Session;
use ort::value::Tensor as OrtTensor;
use tract_onnx::prelude::*;

fn input(shape: [usize; 4]) -> Vec<f32> {
    // A smooth pattern with text-like stripes, deterministic.
    let n: usize = shape.iter().product();
    (0..n)
        .map(|i| {
            let x = (i % shape[3]) as f32;
            let y = ((i / shape[3]) % shape[2]) as f32;
            (((x / 7.0).sin() * (y / 5.0).cos()) * 0.8).clamp(-1.0, 1.0)
        })
        .collect()
}

fn main() {
    let dir = std::env::args().nth(1).expect("MODELS_DIR");
    let dir = Path::new(&dir);
    let environment = ort::init_from(dir.join("libonnxruntime.so"))
        .expect("runtime")
        .with_name("probe")
        .build()
        .expect("env");
    for (file, shape, runs) in [
        ("ch_PP-OCRv4_det_infer.onnx", [1usize, 3, 960, 736], 3),
        ("ch_ppocr_mobile_v2.0_cls_infer.onnx", [6, 3, 48, 192], 10),
        ("ch_PP-OCRv4_rec_infer.onnx", [6, 3, 48, 320], 5),
    ] {
        let path = dir.join(file);
        let data = input(shape);
        // ort
        let started = Instant::now();
        let mut session = Session::builder(&environment)
            .unwrap()
            .with_intra_threads(1)
            .unwrap()
            .commit_from_file(&path)
            .unwrap();
        let ort_load = started.elapsed();
        let mut ort_out = Vec::new();
        let started = Instant::now();
        for _ in 0..runs {
            let t = OrtTensor::from_array((shape, data.clone())).unwrap();
            let outputs = session.run(ort::inputs![t]).unwrap();
            let (_, v) = outputs[0].try_extract_tensor::<f32>().unwrap();
            ort_out = v.to_vec();
        }
        let ort_run = started.elapsed() / runs;
        // tract
        let started = Instant::now();
        let onnx = tract_onnx::onnx().with_ignore_output_shapes(true);
        let model = onnx
            .proto_model_for_path(&path)
            .and_then(|mut proto| {
                // Paddle's exporter names dynamic dimensions
                // `p2o.DynamicDimension.0` or `?`, which tract's dimension
                // parser refuses: give them plain names.
                use tract_onnx::pb::tensor_shape_proto::dimension::Value;
                if let Some(graph) = proto.graph.as_mut() {
                    let mut k = 0;
                    for info in graph
                        .input
                        .iter_mut()
                        .chain(graph.output.iter_mut())
                        .chain(graph.value_info.iter_mut())
                    {
                        if let Some(tract_onnx::pb::type_proto::Value::TensorType(tensor)) =
                            info.r#type.as_mut().and_then(|t| t.value.as_mut())
                        {
                            if let Some(shape) = tensor.shape.as_mut() {
                                for dim in &mut shape.dim {
                                    if let Some(Value::DimParam(name)) = dim.value.as_mut() {
                                        k += 1;
                                        *name = format!("d{k}");
                                    }
                                }
                            }
                        }
                    }
                }
                onnx.model_for_proto_model(&proto)
            })
            .and_then(|m| m.with_input_fact(0, f32::fact(shape).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable());
        let model = match model {
            Ok(m) => m,
            Err(e) => {
                println!(
                    "{file}: ort load {ort_load:?}, run {ort_run:?}; tract FAILED to load: {e:?}"
                );
                continue;
            }
        };
        let tract_load = started.elapsed();
        let tensor: tract_onnx::prelude::Tensor =
            tract_ndarray::Array4::from_shape_vec(shape, data.clone())
                .unwrap()
                .into();
        let mut tract_out = Vec::new();
        let started = Instant::now();
        let mut failed = None;
        for _ in 0..runs {
            match model.run(tvec!(tensor.clone().into())) {
                Ok(out) => tract_out = out[0].as_slice::<f32>().unwrap().to_vec(),
                Err(e) => {
                    failed = Some(format!("{e:?}"));
                    break;
                }
            }
        }
        let tract_run = started.elapsed() / runs;
        if let Some(e) = failed {
            println!("{file}: tract FAILED to run: {e}");
            continue;
        }
        let max_diff = ort_out
            .iter()
            .zip(&tract_out)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        println!(
            "{file} {shape:?}: ort load {ort_load:.2?} run {ort_run:.2?} | tract load {tract_load:.2?} run {tract_run:.2?} | outputs {} vs {}, max |diff| {max_diff:.2e}",
            ort_out.len(),
            tract_out.len()
        );
    }
}
