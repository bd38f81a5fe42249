extension MutableCollection where Self: RandomAccessCollection, Index == Int {
    /// Fisher-Yates shuffle driven by a `SeededGenerator`: the permutation
    /// depends only on the generator's state (unlike the standard library's
    /// `shuffle(using:)`, whose algorithm is not promised to stay fixed).
    // Inlinable so it is specialised for the caller's collection: the
    // unspecialised generic version allocated on every swap.
    @inlinable
    public mutating func seededShuffle(using generator: inout SeededGenerator) {
        guard count > 1 else { return }
        var i = endIndex - 1
        while i > startIndex {
            let j = startIndex + generator.nextIndex(below: i - startIndex + 1)
            if i != j { swapAt(i, j) }
            i -= 1
        }
    }
}
