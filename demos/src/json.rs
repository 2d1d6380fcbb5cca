//! A minimal JSON writer for the demos' results (objects of numbers, strings and arrays).
//!
//! Numbers are written with Rust's shortest representation that reads back to the same `f64`
//! (`Display`, never an exponent), so `JSON.parse` in the page recovers every value bit for bit.
//! JSON has no NaN or ∞: a non-finite number is an error, never a silent `null`.

use std::fmt::Write;

use crate::error::{Error, Result};

/// A JSON object being written: `{"key": value, …}`.
#[derive(Debug, Default)]
pub struct Object {
    text: String,
}

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// `"key": `, after a comma unless it is the first entry.
    fn key(&mut self, key: &str) {
        self.text.push(if self.text.is_empty() { '{' } else { ',' });
        string_into(&mut self.text, key);
        self.text.push(':');
    }

    /// Adds a number; fails if it is not finite.
    pub fn number(mut self, key: &str, value: f64) -> Result<Self> {
        self.key(key);
        number_into(&mut self.text, key, value)?;
        Ok(self)
    }

    /// Adds a string.
    pub fn string(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        string_into(&mut self.text, value);
        self
    }

    /// Adds an array of numbers; fails if one is not finite.
    pub fn numbers(mut self, key: &str, values: impl IntoIterator<Item = f64>) -> Result<Self> {
        self.key(key);
        self.text.push('[');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            number_into(&mut self.text, key, value)?;
        }
        self.text.push(']');
        Ok(self)
    }

    /// Adds an array of objects.
    pub fn objects(mut self, key: &str, values: impl IntoIterator<Item = Object>) -> Self {
        self.key(key);
        self.text.push('[');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            self.text.push_str(&value.finish());
        }
        self.text.push(']');
        self
    }

    /// Adds an object.
    pub fn object(mut self, key: &str, value: Object) -> Self {
        self.key(key);
        self.text.push_str(&value.finish());
        self
    }

    /// The text of the object.
    pub fn finish(mut self) -> String {
        if self.text.is_empty() {
            self.text.push('{');
        }
        self.text.push('}');
        self.text
    }
}

fn number_into(text: &mut String, key: &str, value: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(Error::NotFinite { name: key.to_string(), value });
    }
    // `-0` is valid JSON, but reads better as 0.
    let value = if value == 0.0 { 0.0 } else { value };
    let _ = write!(text, "{value}");
    Ok(())
}

/// `value` as a JSON string: quotes, backslashes and control characters escaped.
fn string_into(text: &mut String, value: &str) {
    text.push('"');
    for c in value.chars() {
        match c {
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(text, "\\u{:04x}", u32::from(c));
            }
            c => text.push(c),
        }
    }
    text.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_strings_and_nesting() {
        let inner = Object::new().number("x", -0.0).unwrap();
        let text = Object::new()
            .number("a", 0.1)
            .unwrap()
            .string("s", "say \"hi\"\\\n")
            .numbers("v", [1.0, 1e-7, 2.5e20])
            .unwrap()
            .objects("o", [inner, Object::new()])
            .finish();
        assert_eq!(
            text,
            "{\"a\":0.1,\"s\":\"say \\\"hi\\\"\\\\\\u000a\",\"v\":[1,0.0000001,250000000000000000000],\
             \"o\":[{\"x\":0},{}]}"
        );
    }

    #[test]
    fn every_finite_number_reads_back_exactly() {
        for value in [0.1, 1.0 / 3.0, f64::MIN_POSITIVE, f64::MAX, -123.456e-300, f64::from(0.1f32)] {
            let text = Object::new().number("x", value).unwrap().finish();
            let written = &text[5..text.len() - 1];
            assert_eq!(written.parse::<f64>().unwrap(), value, "{written}");
        }
    }

    #[test]
    fn a_non_finite_number_is_an_error() {
        assert!(Object::new().number("x", f64::NAN).is_err());
        assert!(Object::new().numbers("v", [1.0, f64::INFINITY]).is_err());
    }
}
