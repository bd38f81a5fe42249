/// Adds a bias to every row and, optionally, applies ReLU, in one pass:
/// `x[i, j] = max(0, x[i, j] + bias[j])` (or without the max when `relu` is
/// false). The forward step of a dense layer after `gemm`, fused so the
/// activations are read and written once.
public func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ld: Int,
                    bias: UnsafePointer<Float>, relu: Bool) {
    precondition(rows >= 0 && columns >= 0 && ld >= columns)
    let width = TileVector.scalarCount
    let vectorColumns = columns - columns % width
    let zero = TileVector()
    for i in 0..<rows {
        let row = x + i * ld
        var j = 0
        while j < vectorColumns {
            var v = UnsafeRawPointer(row + j).loadUnaligned(as: TileVector.self)
                + UnsafeRawPointer(bias + j).loadUnaligned(as: TileVector.self)
            if relu { v = v.replacing(with: zero, where: v .< zero) }
            UnsafeMutableRawPointer(row + j).storeBytes(of: v, as: TileVector.self)
            j += width
        }
        while j < columns {
            let v = row[j] + bias[j]
            row[j] = relu && v < 0 ? 0 : v
            j += 1
        }
    }
}

/// ReLU backward: zeroes the gradient where the forward output was not
/// positive, `gradient[i] = output[i] > 0 ? gradient[i] : 0`, in place.
/// `output` is the ReLU's own output (it doubles as the mask), so no
/// separate mask needs storing.
public func reluBackward(_ gradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, count: Int) {
    precondition(count >= 0)
    let width = TileVector.scalarCount
    let zero = TileVector()
    var i = 0
    while i + width <= count {
        let g = UnsafeRawPointer(gradient + i).loadUnaligned(as: TileVector.self)
        let y = UnsafeRawPointer(output + i).loadUnaligned(as: TileVector.self)
        UnsafeMutableRawPointer(gradient + i).storeBytes(of: g.replacing(with: zero, where: .!(y .> zero)), as: TileVector.self)
        i += width
    }
    while i < count {
        if !(output[i] > 0) { gradient[i] = 0 }
        i += 1
    }
}
