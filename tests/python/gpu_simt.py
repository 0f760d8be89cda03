"""A SIMT interpreter of the CUDA pipeline's fused kernels, so that CI checks their numerics without a GPU.

`run(src, args, out_shapes)` compiles `src` for target="cuda" up to
`euler-gpu-lower-groups` (host code with `gpu.launch` bodies) and executes
it with numpy: a block's threads run in lockstep, each SSA value an array
over them (a cluster's blocks together, each with its shared memory);
`scf.if` masks, `gpu.shuffle xor` permutes within warps, and barriers are
implied (so races go unseen: this checks the arithmetic and the indexing,
not the synchronization). Host ops left to other kernels
(linalg generics, matmuls, copies) run as numpy loops, vectorized over
their parallel points. Only the ops these kernels use are known; any other
raises NotImplementedError.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from mlir import ir, passmanager

import euler
from euler import dialects, passes

_DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64, "i32": np.int32,
           "i64": np.int64, "index": np.int64, "i1": np.bool_, "i8": np.int8}
# Fake device addresses: buffer k's elements start at (k + 1) << _ADDRESS_BITS.
_ADDRESS_BITS = 40


def lowered(source, bufferized=False, **options):
    """(context, module) of `source` after euler-gpu-lower-groups; `source`
    is euler IR, or with `bufferized` the CUDA pipeline's bufferized stage."""
    text = source if bufferized else euler.compile(
        source, target="cuda", emit="bufferized", **options).stages["bufferized"]
    ctx = dialects.context()
    with ctx, ir.Location.unknown():
        module = ir.Module.parse(text)
        pm = passmanager.PassManager()
        passes.add(pm, "euler-gpu-device-buffers")
        passes.add(pm, "euler-gpu-lower-groups")
        pm.add("canonicalize,cse")
        pm.run(module.operation)
    return ctx, module


def run(source, args, out_shapes, kernels_only=True, **options):
    """Outputs (float32 arrays of `out_shapes`) of @main on numpy `args`, and
    its number of launches. `kernels_only`: every linalg op became a kernel."""
    ctx, module = lowered(source, **options)
    with ctx:
        fn = next(op.operation for op in module.body.operations
                  if op.operation.name == "func.func")
        text = str(fn)
        assert not kernels_only or "linalg." not in text, "a group took the loop-nest path"
        outs = [np.full(shape, np.nan, np.float32) for shape in out_shapes]
        Interpreter(module).call(fn, [np.array(a, copy=True) for a in args] + outs)
    return outs, text.count("gpu.launch ")


def _dtype(t):
    return _DTYPES[str(t)]


class _Shared:
    """A workgroup buffer: one copy per block of the cluster being run (`blocks`)."""

    def __init__(self, blocks):
        self.blocks = blocks


class Interpreter:
    def __init__(self, module):
        self.globals = {op.operation.attributes["sym_name"].value: op.operation
                        for op in module.body.operations
                        if op.operation.name == "memref.global"}
        self.buffers = []
        self.threads = 1

    # --- host ----------------------------------------------------------------------

    def call(self, fn, args):
        env = dict(zip(fn.regions[0].blocks[0].arguments, args))
        for op in fn.regions[0].blocks[0].operations:
            op = op.operation
            name, results, operands = op.name, op.results, list(op.operands)
            if name == "arith.constant":
                env[results[0]] = self._constant(op)
            elif name == "gpu.alloc":
                t = results[0].type
                env[results[0]] = np.full(t.shape, np.nan, _dtype(t.element_type))
            elif name in ("gpu.dealloc", "memref.dealloc", "func.return"):
                pass
            elif name == "gpu.launch":
                self._launch(op, env)
            elif name == "memref.get_global":
                g = self.globals[ir.FlatSymbolRefAttr(op.attributes["name"]).value]
                t = results[0].type
                env[results[0]] = np.array(g.attributes["initial_value"]).reshape(
                    t.shape).astype(_dtype(t.element_type))
            elif name in ("memref.expand_shape", "memref.collapse_shape"):
                env[results[0]] = env[operands[0]].reshape(results[0].type.shape)
            elif name == "memref.cast":
                env[results[0]] = env[operands[0]]
            elif name == "memref.subview":
                attrs = [list(op.attributes[k]) for k in
                         ("static_offsets", "static_sizes", "static_strides")]
                view = env[operands[0]][tuple(slice(int(o), int(o) + int(n) * int(s), int(s))
                                              for o, n, s in zip(*attrs))]
                env[results[0]] = view.reshape(results[0].type.shape)
            elif name in ("linalg.copy", "gpu.memcpy"):
                env[operands[-1 if name == "linalg.copy" else -2]][...] = \
                    env[operands[0 if name == "linalg.copy" else -1]]
            elif name == "linalg.fill":
                env[operands[1]][...] = env[operands[0]]
            elif name in ("linalg.matmul", "linalg.batch_matmul"):
                a, b, c = (env[v] for v in operands)
                c[...] = c + np.matmul(a.astype(np.float64), b)
            elif name == "linalg.generic":
                self._generic(op, env)
            else:
                raise NotImplementedError(f"host op {name}")

    def _constant(self, op):
        t, value = op.results[0].type, op.attributes["value"]
        if isinstance(t, ir.FloatType):
            return _dtype(t)(ir.FloatAttr(value).value)
        if str(t) == "i1":
            return bool(ir.IntegerAttr(value).value)
        if isinstance(t, (ir.VectorType, ir.ShapedType)):
            raise NotImplementedError("a vector constant")
        return np.int64(ir.IntegerAttr(value).value)

    def _generic(self, op, env):
        """Vectorized over the parallel points; the reduction points in order."""
        maps = [m.value for m in op.attributes["indexing_maps"]]
        iterators = [str(a).split("<")[-1].rstrip(">").strip('"')
                     for a in op.attributes["iterator_types"]]
        operands = list(op.operands)
        ranges = [None] * len(iterators)
        for value, amap in zip(operands, maps):
            if isinstance(value.type, ir.ShapedType):
                for size, e in zip(value.type.shape, amap.results):
                    if isinstance(e, ir.AffineDimExpr):
                        ranges[e.position] = size
        parallel = [d for d, it in enumerate(iterators) if it == "parallel"]
        reduced = [d for d, it in enumerate(iterators) if it == "reduction"]
        grids = np.meshgrid(*[np.arange(ranges[d]) for d in parallel], indexing="ij")
        points = {d: g.reshape(-1) for d, g in zip(parallel, grids)}
        self.threads = n = len(next(iter(points.values()))) if points else 1
        body = op.regions[0].blocks[0]

        def at(amap, point):
            return tuple(np.full(n, e.value) if isinstance(e, ir.AffineConstantExpr)
                         else point[e.position] for e in amap.results)
        for rp in itertools.product(*[range(ranges[d]) for d in reduced]):
            point = dict(points)
            point.update((d, np.full(n, i)) for d, i in zip(reduced, rp))
            local = dict(env)
            for arg, value, amap in zip(body.arguments, operands, maps):
                local[arg] = (env[value][at(amap, point)] if isinstance(value.type, ir.ShapedType)
                              else env[value])
            for inner in body.operations:
                inner = inner.operation
                if inner.name == "linalg.yield":
                    env[operands[-1]][at(maps[-1], point)] = self._wide(local[inner.operands[0]])
                elif inner.name == "linalg.index":
                    local[inner.results[0]] = point[ir.IntegerAttr(inner.attributes["dim"]).value]
                else:
                    self._op(inner, local, np.ones(n, bool))

    # --- kernels ------------------------------------------------------------------------

    def _launch(self, op, env):
        # Operands: async dependencies, grid, block[, cluster] sizes.
        segments = list(op.attributes["operandSegmentSizes"])
        sizes = [int(env[v]) for v in list(op.operands)[segments[0]:]]
        grid, block = sizes[:3], sizes[3:6]
        cluster = sizes[6] if segments[7] else 1  # clusters along x only
        assert sizes[7:9] in ([], [1, 1]) and grid[0] % cluster == 0
        body = op.regions[0].blocks[0]
        args = list(body.arguments)
        n = math.prod(block)
        # A cluster's blocks in lockstep: threads rank * n ... (rank + 1) * n - 1.
        self.threads = cluster * n
        linear = np.arange(n * cluster) % n
        self.rank = np.arange(n * cluster) // n
        ids = [linear % block[0], linear // block[0] % block[1], linear // (block[0] * block[1])]
        shared_from = 18 if segments[7] else 12
        for bz, by, bx in itertools.product(*[range(g) for g in reversed(grid)]):
            if bx % cluster:
                continue
            local = dict(env)
            for arg, v in zip(args[:12], [bx + self.rank, by, bz, *ids, *grid, *block]):
                local[arg] = v if isinstance(v, np.ndarray) else np.full(self.threads, v, np.int64)
            if segments[7]:
                for arg, v in zip(args[12:18], [bx // cluster, by, bz, cluster, 1, 1]):
                    local[arg] = np.full(self.threads, v, np.int64)
            for arg in args[shared_from:]:  # workgroup memory, fresh for each block
                local[arg] = _Shared(np.full((cluster,) + tuple(arg.type.shape), np.nan,
                                             _dtype(arg.type.element_type)))
            self._region(body, local, np.ones(self.threads, bool))

    def _wide(self, v):
        return v if isinstance(v, np.ndarray) and v.shape[:1] == (self.threads,) \
            else np.full(self.threads, v)

    def _region(self, block, env, mask):
        for op in block.operations:
            yielded = self._op(op.operation, env, mask)
            if yielded is not None:
                return yielded
        return None

    def _address(self, buffer):
        for k, b in enumerate(self.buffers):
            if b is buffer:
                return np.int64((k + 1) << _ADDRESS_BITS)
        self.buffers.append(buffer)
        return np.int64(len(self.buffers) << _ADDRESS_BITS)

    _BINARY = {"arith.addi": np.add, "arith.addf": np.add, "arith.subi": np.subtract,
               "arith.subf": np.subtract, "arith.muli": np.multiply, "arith.mulf": np.multiply,
               "arith.divf": np.divide, "arith.divui": np.floor_divide, "arith.remui": np.mod,
               "arith.minui": np.minimum, "arith.maxui": np.maximum, "arith.maximumf": np.maximum,
               "arith.minimumf": np.minimum, "arith.maxnumf": np.fmax, "arith.minnumf": np.fmin,
               "arith.andi": np.bitwise_and, "arith.ori": np.bitwise_or}
    _UNARY = {"arith.negf": np.negative, "math.exp": np.exp, "math.sqrt": np.sqrt,
              "math.rsqrt": lambda x: 1 / np.sqrt(x), "math.tanh": np.tanh,
              "math.log": np.log, "math.erf": np.vectorize(math.erf), "math.absf": np.abs,
              "arith.index_cast": lambda x: x, "llvm.inttoptr": lambda x: x}
    # arith.cmpi predicates (unsigned as signed: indices are small and positive).
    _CMPI = [np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
             np.less, np.less_equal, np.greater, np.greater_equal]

    def _op(self, op, env, mask):
        name, results = op.name, op.results
        get = [env[v] for v in op.operands]
        if name in self._BINARY:
            out = self._BINARY[name](get[0], get[1])
        elif name in self._UNARY:
            out = self._UNARY[name](get[0])
        elif name == "arith.constant":
            out = self._constant(op)
        elif name == "arith.cmpi":
            out = self._CMPI[ir.IntegerAttr(op.attributes["predicate"]).value](get[0], get[1])
        elif name == "arith.cmpf":
            a, b = get[0], get[1]
            unordered = np.isnan(a) | np.isnan(b)
            # false, oeq, ogt, oge, olt, ole, one, ord, ueq ... une, uno, true
            compare = [a == b, a > b, a >= b, a < b, a <= b, a != b]
            p = ir.IntegerAttr(op.attributes["predicate"]).value
            out = ([np.zeros_like(unordered)] + [c & ~unordered for c in compare] + [~unordered]
                   + [c | unordered for c in compare] + [unordered, np.ones_like(unordered)])[p]
        elif name == "arith.select":
            out = np.where(get[0], get[1], get[2])
        elif name in ("arith.extf", "arith.truncf"):
            out = np.asarray(get[0]).astype(_dtype(results[0].type))
        elif name in ("gpu.terminator", "scf.yield"):
            return get
        elif name == "gpu.barrier":
            return None  # lockstep: every thread is there
        elif name == "memref.load" and isinstance(get[0], _Shared):  # the thread's block's
            index = tuple(np.where(mask, self._wide(i), 0) for i in get[1:])
            out = get[0].blocks[(self.rank,) + index]
        elif name == "memref.store" and isinstance(get[1], _Shared):
            index = tuple(self._wide(i)[mask] for i in get[2:])
            get[1].blocks[(self.rank[mask],) + index] = self._wide(get[0])[mask]
            return None
        elif name == "memref.load":
            index = tuple(np.where(mask, self._wide(i), 0) for i in get[1:])
            out = get[0][index] if index else self._wide(get[0][()])
        elif name == "memref.store":
            index = tuple(self._wide(i)[mask] for i in get[2:])
            get[1][index] = self._wide(get[0])[mask]
            return None
        elif name == "vector.load":
            width = results[0].type.shape[0]
            rows, last = [self._wide(i) for i in get[1:-1]], np.where(mask, self._wide(get[-1]), 0)
            out = np.stack([get[0][tuple(rows) + (last + k,)] for k in range(width)], -1)
        elif name == "vector.store":
            rows = tuple(self._wide(i)[mask] for i in get[2:-1])
            for k in range(get[0].shape[-1]):
                get[1][rows + ((self._wide(get[-1]) + k)[mask],)] = get[0][..., k][mask]
            return None
        elif name == "vector.extract":
            out = get[0][..., int(list(op.attributes["static_position"])[0])]
        elif name == "vector.from_elements":
            out = np.stack([self._wide(v) for v in get], -1)
        elif name == "memref.extract_aligned_pointer_as_index":
            out = self._address(get[0])
        elif name == "llvm.inline_asm" and not str(op.attributes["asm_string"]).strip(
                '"').startswith("ld.global."):
            out = self._cluster_asm(str(op.attributes["asm_string"]).strip('"'), get, mask)
            if out is None:
                return None
        elif name == "llvm.inline_asm":
            # The 16-byte loads of euler-gpu-lower-groups written as PTX (4 x
            # 32 bits; a cache policy, no other effect).
            address = self._wide(get[0])
            k = int(address[mask][0] if mask.any() else address[0]) >> _ADDRESS_BITS
            flat = self.buffers[k - 1].reshape(-1)
            offset = np.where(mask, (address - (k << _ADDRESS_BITS)) // 4, 0)
            out = tuple(flat[offset + lane] for lane in range(4))
        elif name == "llvm.extractvalue":
            out = get[0][int(str(op.attributes["position"]).split(":")[-1].strip(" >"))]
        elif name == "gpu.shuffle":
            offset = int(np.asarray(get[1]).reshape(-1)[0])
            assert "xor" in str(op.attributes["mode"])
            out = self._wide(get[0])[np.arange(self.threads) ^ offset]
            env[results[1]] = np.ones(self.threads, bool)
        elif name == "scf.if":
            condition = self._wide(get[0])
            self._region(op.regions[0].blocks[0], env, mask & condition)
            if len(op.regions) > 1 and len(op.regions[1].blocks):
                self._region(op.regions[1].blocks[0], env, mask & ~condition)
            return None
        elif name == "scf.for":
            lower, upper, step = (self._wide(v) for v in get[:3])
            assert (lower == lower[0]).all() and (upper == upper[0]).all(), "divergent loop"
            carried, body = get[3:], op.regions[0].blocks[0]
            for i in range(int(lower[0]), int(upper[0]), int(step[0])):
                env.update(zip(body.arguments, [np.int64(i)] + list(carried)))
                carried = self._region(body, env, mask)
            env.update(zip(results, carried))
            return None
        else:
            raise NotImplementedError(name)
        if isinstance(out, np.ndarray) and out.dtype == np.float64 and name != "arith.truncf":
            out = out.astype(np.float32)  # numpy widens mixed float32/python-float math
        env[results[0]] = out
        return None

    def _cluster_asm(self, text, get, mask):
        """euler-gpu-lower-groups' cluster PTX: barriers (implied by lockstep);
        `mapa` (block `rank`'s copy of a shared address: the rank in bits
        32..39 of the fake address); a load from such an address."""
        if text.startswith("barrier.cluster."):
            return None
        if text.startswith("mapa.shared::cluster"):
            address, rank = self._wide(get[0]), self._wide(get[1]).astype(np.int64)
            return address + (rank << 32)
        assert text.startswith("ld.shared::cluster."), text
        address = self._wide(get[0])
        k = int(address[mask][0] if mask.any() else address[0]) >> _ADDRESS_BITS
        shared = self.buffers[k - 1]
        rank = (address >> 32) & 0xff
        offset = (address & 0xffffffff) // 4
        flat = shared.blocks.reshape(shared.blocks.shape[0], -1)
        return flat[np.where(mask, rank, 0), np.where(mask, offset, 0)]
