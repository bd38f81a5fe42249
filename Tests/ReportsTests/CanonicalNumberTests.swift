import TicketTestSupport
import XCTest
@testable import Reports

final class CanonicalNumberTests: XCTestCase {
    func testCanonicalNumbers() {
        XCTAssertEqual(CanonicalNumber.format(1.0), "1")
        XCTAssertEqual(CanonicalNumber.format(-0.0), "0")
        XCTAssertEqual(CanonicalNumber.format(0.1), "0.1")
        XCTAssertEqual(CanonicalNumber.format(1e-5), "0.00001")
        XCTAssertEqual(CanonicalNumber.format(1.5e-7), "0.00000015")
        XCTAssertEqual(CanonicalNumber.format(1e20), "100000000000000000000")
        XCTAssertEqual(CanonicalNumber.format(123.456), "123.456")
        XCTAssertEqual(CanonicalNumber.format(-2.5), "-2.5")
        XCTAssertEqual(CanonicalNumber.format(0.0078125), "0.0078125")
        XCTAssertEqual(CanonicalNumber.format(Float(0.1)), "0.1")
        XCTAssertNil(CanonicalNumber.format(Double.nan))
        XCTAssertNil(CanonicalNumber.format(-Double.infinity))
        // Round trip over awkward values: shortest digits read back exactly.
        var rng = SplitMix(state: 5)
        for _ in 0..<10_000 {
            let value = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF) * (rng.next() % 2 == 0 ? 1 : -1)
            let text = CanonicalNumber.format(value)!
            XCTAssertFalse(text.contains("e"), text)
            XCTAssertEqual(CanonicalNumber.parse(text), value, text)
        }
        XCTAssertNil(CanonicalNumber.parse("1,5"))
        XCTAssertNil(CanonicalNumber.parse("nan"))
        XCTAssertNil(CanonicalNumber.parse(""))
    }
}
