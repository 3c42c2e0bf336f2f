use super::*;
use crate::rng;
