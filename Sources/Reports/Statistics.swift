import Foundation

/// Descriptive statistics and Student-t intervals for the summary table.
public enum Statistics {
    /// The arithmetic mean; `nil` for no values.
    public static func mean(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        return values.reduce(0, +) / Double(values.count)
    }

    /// The sample standard deviation (divisor n − 1); `nil` for fewer than
    /// two values. Two-pass, so a large common offset loses no precision.
    public static func standardDeviation(_ values: [Double]) -> Double? {
        guard values.count >= 2, let mean = mean(values) else { return nil }
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (squares / Double(values.count - 1)).squareRoot()
    }

    /// The two-sided Student-t confidence interval of the mean (95% by
    /// default); `nil` for fewer than two values, so n = 1 gives empty cells.
    public static func confidenceInterval(_ values: [Double], level: Double = 0.95) -> ClosedRange<Double>? {
        guard let mean = mean(values), let std = standardDeviation(values) else { return nil }
        let half = StudentT.quantile(0.5 + level / 2, degreesOfFreedom: Double(values.count - 1))
            * std / Double(values.count).squareRoot()
        return (mean - half)...(mean + half)
    }

    /// Welch's difference of means `a − b` with its confidence interval
    /// (Welch–Satterthwaite degrees of freedom, unequal variances).
    public struct Difference: Equatable, Sendable {
        public var difference: Double
        /// `nil` unless both samples have at least two values.
        public var interval: ClosedRange<Double>?
    }

    /// `mean(a) − mean(b)` with Welch's interval; `nil` when either is empty.
    /// Mean of the paired differences `a[i] − b[i]` with a Student-t
    /// interval on n − 1 degrees of freedom: the right test when each pair
    /// shares its seed (same initialisation and data order), which removes
    /// the seed-to-seed spread both samples share. `nil` for no pairs.
    public static func pairedDifference(_ a: [Double], _ b: [Double], level: Double = 0.95) -> Difference? {
        precondition(a.count == b.count, "paired samples must have the same length")
        let differences = zip(a, b).map { $0 - $1 }
        guard let meanDifference = mean(differences) else { return nil }
        guard let spread = standardDeviation(differences) else {
            return Difference(difference: meanDifference, interval: nil)
        }
        let se = spread / Double(differences.count).squareRoot()
        guard se > 0 else { return Difference(difference: meanDifference, interval: meanDifference...meanDifference) }
        let half = StudentT.quantile(0.5 + level / 2, degreesOfFreedom: Double(differences.count - 1)) * se
        return Difference(difference: meanDifference, interval: (meanDifference - half)...(meanDifference + half))
    }

    public static func welchDifference(_ a: [Double], _ b: [Double], level: Double = 0.95) -> Difference? {
        guard let meanA = mean(a), let meanB = mean(b) else { return nil }
        let difference = meanA - meanB
        guard let stdA = standardDeviation(a), let stdB = standardDeviation(b) else {
            return Difference(difference: difference, interval: nil)
        }
        let va = stdA * stdA / Double(a.count), vb = stdB * stdB / Double(b.count)
        let se = (va + vb).squareRoot()
        // Both samples constant: no spread, the interval is the point (the
        // Welch degrees of freedom would be 0/0).
        guard se > 0 else { return Difference(difference: difference, interval: difference...difference) }
        let df = (va + vb) * (va + vb)
            / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        let half = StudentT.quantile(0.5 + level / 2, degreesOfFreedom: df) * se
        return Difference(difference: difference, interval: (difference - half)...(difference + half))
    }
}

/// Student's t distribution with real degrees of freedom.
public enum StudentT {
    /// P(T ≤ t) for `degreesOfFreedom` ν > 0, via the regularized incomplete
    /// beta function: for t ≥ 0, 1 − ½·I_{ν/(ν+t²)}(ν/2, ½).
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(nu > 0, "degrees of freedom must be positive")
        let tail = 0.5 * IncompleteBeta.regularized(x: nu / (nu + t * t), a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The t with P(T ≤ t) = p, for p in (0, 1): bisection on the CDF, which
    /// is monotone, so it cannot fail to converge the way Newton can in the
    /// heavy tails of ν = 1. 200 halvings exhaust Double precision.
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1, "probability must be in (0, 1)")
        precondition(nu > 0, "degrees of freedom must be positive")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
        var low = 0.0, high = 1.0
        while cdf(high, degreesOfFreedom: nu) < p { low = high; high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if middle == low || middle == high { break }
            if cdf(middle, degreesOfFreedom: nu) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }
}

/// The regularized incomplete beta function I_x(a, b).
enum IncompleteBeta {
    /// Evaluated with the continued fraction of Numerical Recipes §6.4
    /// (modified Lentz), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) so the
    /// fraction is always used where it converges quickly.
    static func regularized(x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * continuedFraction(x: x, a: a, b: b) / a
        }
        return 1 - exp(logFront) * continuedFraction(x: 1 - x, a: b, b: a) / b
    }

    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300, epsilon = 1e-16
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...10_000 {
            let m = Double(m)
            // Even step.
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            // Odd step.
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < epsilon { break }
        }
        return result
    }
}
