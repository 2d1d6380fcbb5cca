//! The linear generator `x = Az + c` of exercise 1 (c).

use nalgebra::{DMatrix, DVector};

use crate::{Result, validation};

// ANCHOR: linear_generator
/// The generator `x = Az + c` that maps a code `z ∈ ℝᵏ` (drawn from `N(0, I)`) to an input
/// `x ∈ ℝⁿ`; `A` is `n × k` and need not be square (exercise sheet 11, exercise 1 (c)).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearGenerator {
    matrix: DMatrix<f64>,
    offset: DVector<f64>,
}

impl LinearGenerator {
    /// The generator with matrix `A` (`n × k`) and offset `c` (length `n`); entries must be finite.
    pub fn new(matrix: DMatrix<f64>, offset: DVector<f64>) -> Result<Self> {
        validation::finite_entries("a", &matrix)?;
        validation::finite_entries("c", &offset)?;
        validation::matrix_shape("a", &matrix, offset.len(), None)?;
        Ok(Self { matrix, offset })
    }

    /// The input `x = Az + c` generated from the code `z` (length `k`).
    pub fn generate(&self, code: &DVector<f64>) -> Result<DVector<f64>> {
        validation::argument("z", code, self.code_dimension())?;
        let generated = &self.matrix * code + &self.offset;
        validation::no_overflow("the generated input Az + c", &generated)?;
        Ok(generated)
    }
}
// ANCHOR_END: linear_generator

impl LinearGenerator {
    /// The matrix `A`.
    pub fn matrix(&self) -> &DMatrix<f64> {
        &self.matrix
    }

    /// The offset `c`.
    pub fn offset(&self) -> &DVector<f64> {
        &self.offset
    }

    /// The code dimension `k` (columns of `A`).
    pub fn code_dimension(&self) -> usize {
        self.matrix.ncols()
    }

    /// The input dimension `n` (rows of `A`).
    pub fn input_dimension(&self) -> usize {
        self.matrix.nrows()
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{dmatrix, dvector};

    use super::*;
    use crate::Error;

    #[test]
    fn generates_affine_image_of_the_code() {
        let generator = LinearGenerator::new(dmatrix![1.0; 2.0; 3.0], dvector![0.0, 1.0, 0.0]).unwrap();
        assert_eq!(generator.generate(&dvector![2.0]).unwrap(), dvector![2.0, 5.0, 6.0]);
    }

    #[test]
    fn rejects_offset_of_wrong_length() {
        let generator = LinearGenerator::new(dmatrix![1.0, 0.0; 0.0, 1.0], dvector![0.0]);
        assert!(matches!(generator, Err(Error::DimensionMismatch { name: "a", .. })));
    }
}
