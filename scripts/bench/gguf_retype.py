"""Rewrites a GGUF file with every quantised tensor dequantised to F32 or F16 (1-D tensors stay
F32), keeping all metadata: a llama.cpp peer at the same precision lf computes in.

usage: gguf_retype.py SRC.gguf DST.gguf f32|f16   (pip: gguf numpy)
"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType, GGUFValueType
from gguf.quants import dequantize

src, dst, kind = sys.argv[1], sys.argv[2], sys.argv[3]
reader = GGUFReader(src)
arch = reader.fields["general.architecture"].contents()
writer = GGUFWriter(dst, arch)
for name, field in reader.fields.items():
    if name.startswith("GGUF.") or name == "general.architecture":
        continue
    value = field.contents()
    if name == "general.file_type":
        value = 0 if kind == "f32" else 1
    vtype = field.types[0]
    if vtype == GGUFValueType.ARRAY:
        writer.add_key_value(name, value, vtype, sub_type=field.types[-1])
    else:
        writer.add_key_value(name, value, vtype)
for t in reader.tensors:
    data = dequantize(t.data, t.tensor_type).reshape(list(reversed([int(x) for x in t.shape])))
    if kind == "f16" and data.ndim > 1:
        writer.add_tensor(t.name, data.astype(np.float16), raw_dtype=GGMLQuantizationType.F16)
    else:
        writer.add_tensor(t.name, data.astype(np.float32))
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
