"""A real CUDA context and allocation without torch: the driver's own library through ctypes,
so tests/gpu/ needs nothing on a GPU machine but the driver (and runs where torch is absent)."""

HOLD = 256 * 2**20  # bytes the script allocates on GPU 0

# Script lines: make a context on device 0, allocate HOLD bytes, print "cuda ok" or why not.
ALLOCATE = f"""
import ctypes
def _cuda():
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError as exc:
        return f"no libcuda: {{exc}}"
    dev, ctx, ptr = ctypes.c_int(), ctypes.c_void_p(), ctypes.c_uint64()
    for what, rc in (("cuInit", lambda: cuda.cuInit(0)),
                     ("cuDeviceGet", lambda: cuda.cuDeviceGet(ctypes.byref(dev), 0)),
                     ("cuCtxCreate", lambda: cuda.cuCtxCreate_v2(ctypes.byref(ctx), 0, dev)),
                     ("cuMemAlloc", lambda: cuda.cuMemAlloc_v2(ctypes.byref(ptr),
                                                               ctypes.c_size_t({HOLD})))):
        code = rc()
        if code != 0:
            return f"{{what}} returned CUDA error {{code}}"
    return "cuda ok"
CUDA = _cuda()
print(CUDA, flush=True)
"""
