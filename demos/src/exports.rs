//! The functions the page calls: plain `extern "C"` exports of the WebAssembly module, read by
//! the hand-written loader `book/src/demos/demos.js`.
//!
//! Each demo call takes numbers, computes, and leaves its result as UTF-8 JSON in one buffer
//! owned by the module; it returns the length in bytes, and [`demo_output`] the address. The page
//! decodes `memory.buffer[address .. address + length]` before the next call, which replaces it.
//! A failure is the JSON `{"error": "…"}`; nothing panics on bad input.
//!
//! `#[unsafe(no_mangle)]` (an exported symbol name) is the only `unsafe` in this crate: no raw
//! pointer is dereferenced in Rust; the page reads the buffer through the module's memory.
#![allow(unsafe_code)]

use std::cell::RefCell;

use crate::error::Result;
use crate::json::Object;
use crate::{method::Method, min_networks, shapes};

thread_local! {
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Stores `result` (or its error) as the output and returns its length in bytes.
fn publish(result: Result<String>) -> u32 {
    let text = result.unwrap_or_else(|e| Object::new().string("error", &e.to_string()).finish());
    OUTPUT.with(|output| {
        let mut output = output.borrow_mut();
        output.clear();
        output.extend_from_slice(text.as_bytes());
        u32::try_from(output.len()).unwrap_or(u32::MAX)
    })
}

/// Address of the last result's first byte in the module's memory.
#[unsafe(no_mangle)]
pub extern "C" fn demo_output() -> usize {
    OUTPUT.with(|output| output.borrow().as_ptr() as usize)
}

/// Demo 1: both min-networks at `(a1, a2)` with LRP-γ ([`min_networks::to_json`]).
#[unsafe(no_mangle)]
pub extern "C" fn demo_min_networks(a1: f64, a2: f64, gamma: f64) -> u32 {
    publish(min_networks::explain(a1, a2, gamma).and_then(|r| min_networks::to_json(a1, a2, gamma, &r)))
}

/// Demo 2: class `class` of the scene of `seed`, method number `method` of [`demo_methods`]
/// ([`shapes::to_json`]).
#[unsafe(no_mangle)]
pub extern "C" fn demo_shapes(seed: u32, class: u32, method: u32, gamma: f64) -> u32 {
    let seed = u64::from(seed);
    publish(
        Method::from_index(method)
            .and_then(|method| shapes::explain(seed, class as usize, method, gamma))
            .and_then(|result| shapes::to_json(seed, &result)),
    )
}

/// Demo 2's menus: `{"methods": [{"name", "gamma": 0/1}], "classes": [names]}`.
#[unsafe(no_mangle)]
pub extern "C" fn demo_methods() -> u32 {
    publish(shapes::menus())
}
