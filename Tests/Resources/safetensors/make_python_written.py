# Writes python-written.safetensors with the safetensors Python package (0.8.0, numpy 2.4.6).
# SafetensorsTests/ReaderTests.swift (pythonWrittenFile…) asserts its exact values, and that
# SafetensorsWriter reproduces it byte for byte. Run: python3 make_python_written.py (needs `pip install safetensors numpy`).
import numpy as np
from safetensors import serialize, TensorSpec

arrays = {
    "a": (np.array([[1.0, -2.5], [3.25, 1e-3]], dtype=np.float32), "float32"),
    "b": (np.array([0x3F80, 0xC020, 0x7F80], dtype=np.uint16), "bfloat16"),  # 1.0, -2.5, +inf
    "c": (np.array([-100, 7], dtype=np.int64), "int64"),
    "d": (np.array([0.5, -65504.0], dtype=np.float16), "float16"),
    "e": (np.array([0, 128, 255], dtype=np.uint8), "uint8"),
    "f": (np.array([True, False, True]), "bool"),
    "g": (np.array([-3, 30000], dtype=np.int16), "int16"),
    "s": (np.array(3.141592653589793, dtype=np.float64), "float64"),
    "z": (np.zeros((0, 4), dtype=np.float32), "float32"),
}
specs = {k: TensorSpec(dtype=dt, shape=a.shape, data_ptr=a.ctypes.data, data_len=a.nbytes)
         for k, (a, dt) in arrays.items()}
with open("python-written.safetensors", "wb") as f:
    f.write(serialize(specs, metadata={"format": "pt"}))
