// The euler dialect: high-level DL ops on static-shaped tensors, with value
// semantics. Loaded into MLIR contexts by euler.dialects.load, or by upstream
// tools with `mlir-opt --irdl-file=dialects/euler.irdl.mlir`.
//
// IRDL checks operand counts, that operands are tensors, and required
// attributes. Each operand gets its own constraint value: IRDL binds one
// value to one type, so sharing it would force operands to be equal. Shape and attribute rules live in dialects/shapes.py and run in
// the `euler-verify` pass; optional attributes are documented per op.
irdl.dialect @euler {
  // A constant tensor: `value` is a dense elements attribute.
  irdl.operation @constant {
    %result = irdl.base "!builtin.tensor"
    // dense<...> or dense_resource<...>: IRDL 22 cannot load an any_of of bases.
    %value = irdl.any
    irdl.operands()
    irdl.results(result: %result)
    irdl.attributes {"value" = %value}
  }
  // numpy-broadcasting binary op.
  irdl.operation @add {
    %result = irdl.base "!builtin.tensor"
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(result: %result)
  }
  // numpy-broadcasting binary op.
  irdl.operation @sub {
    %result = irdl.base "!builtin.tensor"
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(result: %result)
  }
  // numpy-broadcasting binary op.
  irdl.operation @mul {
    %result = irdl.base "!builtin.tensor"
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(result: %result)
  }
  // numpy-broadcasting binary op.
  irdl.operation @div {
    %result = irdl.base "!builtin.tensor"
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(result: %result)
  }
  // numpy-broadcasting binary op.
  irdl.operation @maximum {
    %result = irdl.base "!builtin.tensor"
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(result: %result)
  }
  // numpy-broadcasting binary op.
  irdl.operation @minimum {
    %result = irdl.base "!builtin.tensor"
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(result: %result)
  }
  // numpy-broadcasting binary op.
  irdl.operation @pow {
    %result = irdl.base "!builtin.tensor"
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(result: %result)
  }
  // Elementwise.
  irdl.operation @neg {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise.
  irdl.operation @abs {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise.
  irdl.operation @exp {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise.
  irdl.operation @log {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise.
  irdl.operation @sqrt {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise.
  irdl.operation @rsqrt {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise.
  irdl.operation @tanh {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise.
  irdl.operation @sigmoid {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise.
  irdl.operation @relu {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise (rotary position embeddings of positions known at run time).
  irdl.operation @cos {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise.
  irdl.operation @sin {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // Elementwise (ESM's exact GELU, written with erf).
  irdl.operation @erf {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // torch gelu; optional `approximate = "none"` (erf, default) or `"tanh"`.
  irdl.operation @gelu {
    %tensor = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
  }
  // numpy.matmul on rank >= 2, batch dims broadcast.
  irdl.operation @matmul {
    %result = irdl.base "!builtin.tensor"
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(result: %result)
  }
  // numpy.transpose(x, perm).
  irdl.operation @transpose {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    %perm = irdl.base "#builtin.dense_array"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
    irdl.attributes {"perm" = %perm}
  }
  // numpy.reshape to the result type.
  irdl.operation @reshape {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
  }
  // numpy.broadcast_to the result type.
  irdl.operation @broadcast_to {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
  }
  // Reduction over `axes`; optional `keepdims` (default false).
  irdl.operation @reduce_sum {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    %axes = irdl.base "#builtin.dense_array"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
    irdl.attributes {"axes" = %axes}
  }
  // Reduction over `axes`; optional `keepdims` (default false).
  irdl.operation @reduce_max {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    %axes = irdl.base "#builtin.dense_array"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
    irdl.attributes {"axes" = %axes}
  }
  // Reduction over `axes`; optional `keepdims` (default false).
  irdl.operation @reduce_mean {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    %axes = irdl.base "#builtin.dense_array"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
    irdl.attributes {"axes" = %axes}
  }
  // Numerically stable softmax along `axis`.
  irdl.operation @softmax {
    %tensor = irdl.base "!builtin.tensor"
    %axis = irdl.base "#builtin.integer"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
    irdl.attributes {"axis" = %axis}
  }
  // Normalizes over dims axis..last; optional `epsilon` (default 1e-5).
  irdl.operation @layer_norm {
    %result = irdl.base "!builtin.tensor"
    %axis = irdl.base "#builtin.integer"
    %x = irdl.base "!builtin.tensor"
    %gamma = irdl.base "!builtin.tensor"
    %beta = irdl.base "!builtin.tensor"
    irdl.operands(x: %x, gamma: %gamma, beta: %beta)
    irdl.results(result: %result)
    irdl.attributes {"axis" = %axis}
  }
  // NCHW x FCHW convolution; optional `strides`, `padding`, `dilations`, `groups`.
  irdl.operation @conv2d {
    %result = irdl.base "!builtin.tensor"
    %x = irdl.base "!builtin.tensor"
    %w = irdl.base "!builtin.tensor"
    irdl.operands(x: %x, w: %w)
    irdl.results(result: %result)
  }
  // NCHW max pooling; optional `strides` (default kernel), `padding`.
  irdl.operation @max_pool2d {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    %kernel = irdl.base "#builtin.dense_array"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
    irdl.attributes {"kernel" = %kernel}
  }
  // NCHW average pooling, padding counted; optional `strides`, `padding`.
  irdl.operation @avg_pool2d {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    %kernel = irdl.base "#builtin.dense_array"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
    irdl.attributes {"kernel" = %kernel}
  }
  // numpy.concatenate along `axis`. IRDL 22 binds every operand of one
  // variadic group to one type, so the operands come in 8 groups (in order,
  // each possibly empty) that each hold one run of equal types; the required
  // `operandSegmentSizes` (array<i32: 8 sizes>) says how many are in each.
  // Any mix of shapes that agree off the axis is legal up to 8 runs;
  // `euler.dialects.ops.concat` computes the sizes and chains longer mixes.
  irdl.operation @concat {
    %result = irdl.base "!builtin.tensor"
    %axis = irdl.base "#builtin.integer"
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    %c = irdl.base "!builtin.tensor"
    %d = irdl.base "!builtin.tensor"
    %e = irdl.base "!builtin.tensor"
    %f = irdl.base "!builtin.tensor"
    %g = irdl.base "!builtin.tensor"
    %h = irdl.base "!builtin.tensor"
    irdl.operands(a: variadic %a, b: variadic %b, c: variadic %c, d: variadic %d, e: variadic %e, f: variadic %f, g: variadic %g, h: variadic %h)
    irdl.results(result: %result)
    irdl.attributes {"axis" = %axis}
  }
  // Elementwise comparison `predicate` ("eq", "ne", "lt", "le", "gt", "ge"),
  // numpy broadcasting; the result is a boolean: i8 holding 0 or 1.
  irdl.operation @compare {
    %result = irdl.base "!builtin.tensor"
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    %predicate = irdl.base "#builtin.string"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(result: %result)
    irdl.attributes {"predicate" = %predicate}
  }
  // numpy.where(cond, a, b) with a boolean (i8, nonzero = true) `cond`.
  irdl.operation @select {
    %result = irdl.base "!builtin.tensor"
    %cond = irdl.base "!builtin.tensor"
    %a = irdl.base "!builtin.tensor"
    %b = irdl.base "!builtin.tensor"
    irdl.operands(cond: %cond, a: %a, b: %b)
    irdl.results(result: %result)
  }
  // numpy.cumsum along `axis`, in the operand's element type.
  irdl.operation @cumsum {
    %tensor = irdl.base "!builtin.tensor"
    %axis = irdl.base "#builtin.integer"
    irdl.operands(x: %tensor)
    irdl.results(result: %tensor)
    irdl.attributes {"axis" = %axis}
  }
  // numpy.pad in constant mode: `low`/`high` elements before/after each dim;
  // optional `fill` (default 0.0).
  irdl.operation @pad {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    %low = irdl.base "#builtin.dense_array"
    %high = irdl.base "#builtin.dense_array"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
    irdl.attributes {"low" = %low, "high" = %high}
  }
  // Element type conversion to the result type.
  irdl.operation @cast {
    %tensor = irdl.base "!builtin.tensor"
    %result = irdl.base "!builtin.tensor"
    irdl.operands(x: %tensor)
    irdl.results(result: %result)
  }
  // numpy.take(table, indices, axis); optional `axis` (default 0). Embedding lookup.
  irdl.operation @gather {
    %result = irdl.base "!builtin.tensor"
    %table = irdl.base "!builtin.tensor"
    %indices = irdl.base "!builtin.tensor"
    irdl.operands(table: %table, indices: %indices)
    irdl.results(result: %result)
  }
}
