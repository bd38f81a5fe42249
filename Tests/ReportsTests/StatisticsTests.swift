import Foundation
import XCTest
@testable import Reports

final class StatisticsTests: XCTestCase {
    func testStudentTQuantilesMatchTables() {
        // Two-sided 95% critical values from standard tables.
        let table: [(Double, Double)] = [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (10, 2.228),
                                         (30, 2.042), (120, 1.980)]
        for (df, expected) in table {
            XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: df), expected, accuracy: 0.0005, "df \(df)")
        }
        // Exact closed forms: ν = 1 is Cauchy, ν = 2 has t = (2p−1)/√(2p(1−p)).
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 1), tan(Double.pi * 0.475), accuracy: 1e-9)
        let p = 0.975
        XCTAssertEqual(StudentT.quantile(p, degreesOfFreedom: 2), (2 * p - 1) / (2 * p * (1 - p)).squareRoot(), accuracy: 1e-9)
        // Large ν approaches the normal 1.959964.
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: 1e6), 1.959964, accuracy: 1e-5)
        XCTAssertEqual(StudentT.quantile(0.025, degreesOfFreedom: 4), -StudentT.quantile(0.975, degreesOfFreedom: 4))
        XCTAssertEqual(StudentT.quantile(0.5, degreesOfFreedom: 3), 0)
    }

    func testCDFIsTheInverseOfTheQuantile() {
        for df in [0.5, 1, 2.7, 9, 40] {
            for p in [0.01, 0.2, 0.6, 0.9, 0.999] {
                XCTAssertEqual(StudentT.cdf(StudentT.quantile(p, degreesOfFreedom: df), degreesOfFreedom: df), p,
                               accuracy: 1e-12, "df \(df) p \(p)")
            }
        }
        // Cauchy CDF: 1/2 + atan(t)/π.
        XCTAssertEqual(StudentT.cdf(3, degreesOfFreedom: 1), 0.5 + atan(3.0) / Double.pi, accuracy: 1e-13)
    }

    func testIncompleteBetaKnownValues() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 − (1−x)^b.
        XCTAssertEqual(IncompleteBeta.regularized(x: 0.3, a: 1, b: 1), 0.3, accuracy: 1e-14)
        XCTAssertEqual(IncompleteBeta.regularized(x: 0.3, a: 3, b: 1), 0.027, accuracy: 1e-14)
        XCTAssertEqual(IncompleteBeta.regularized(x: 0.3, a: 1, b: 4), 1 - pow(0.7, 4), accuracy: 1e-14)
        XCTAssertEqual(IncompleteBeta.regularized(x: 0.5, a: 7, b: 7), 0.5, accuracy: 1e-14)
    }

    func testMeanStdAndInterval() throws {
        let values = [0.80, 0.82, 0.81, 0.79]
        XCTAssertEqual(Statistics.mean(values)!, 0.805, accuracy: 1e-15)
        XCTAssertEqual(Statistics.standardDeviation(values)!, 0.012909944487358, accuracy: 1e-14)
        let ci = try XCTUnwrap(Statistics.confidenceInterval(values))
        let half = 3.182446305284263 * 0.012909944487358 / 2
        XCTAssertEqual(ci.lowerBound, 0.805 - half, accuracy: 1e-12)
        XCTAssertEqual(ci.upperBound, 0.805 + half, accuracy: 1e-12)
        XCTAssertNil(Statistics.confidenceInterval([0.8]), "n = 1 has no interval")
        XCTAssertNil(Statistics.standardDeviation([0.8]))
        XCTAssertNil(Statistics.mean([]))
        // A large common offset must not destroy the spread (two-pass).
        XCTAssertEqual(Statistics.standardDeviation(values.map { $0 + 1e9 })!, 0.0129099, accuracy: 1e-6)
    }

    func testWelchDifference() throws {
        // Hand-computed: means 0.9 and 0.8, variances 0.0001 and 0.0004, n 3 and 5.
        let a = [0.89, 0.90, 0.91], b = [0.78, 0.80, 0.82, 0.77, 0.83]
        let result = try XCTUnwrap(Statistics.welchDifference(a, b))
        XCTAssertEqual(result.difference, 0.1, accuracy: 1e-12)
        let va = 0.0001 / 3, vb = Statistics.standardDeviation(b)! * Statistics.standardDeviation(b)! / 5
        let df = (va + vb) * (va + vb) / (va * va / 2 + vb * vb / 4)
        let half = StudentT.quantile(0.975, degreesOfFreedom: df) * (va + vb).squareRoot()
        XCTAssertEqual(result.interval!.lowerBound, 0.1 - half, accuracy: 1e-12)
        XCTAssertGreaterThan(result.interval!.lowerBound, 0, "a clear difference excludes 0")
        XCTAssertNil(Statistics.welchDifference([0.9], b)!.interval)
        XCTAssertEqual(Statistics.welchDifference([0.5, 0.5], [0.25, 0.25])!.interval, 0.25...0.25)
    }
}
