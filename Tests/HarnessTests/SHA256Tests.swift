import XCTest
@testable import Harness
@testable import Reports

final class SHA256Tests: XCTestCase {
    // FIPS 180-2, appendix B, and the NIST example values.
    func testFIPSVectors() {
        XCTAssertEqual(SHA256.hexDigest(of: Array("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hexDigest(of: [UInt8]()),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hexDigest(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testMillionAs() {
        var hash = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hash.update(chunk) }
        XCTAssertEqual(hash.finalize().map { String(format: "%02x", $0) }.joined(),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the padding boundary (55, 56, 63, 64 bytes) exercise the
    /// one- vs two-block tail; feeding in pieces must equal feeding at once.
    func testIncrementalEqualsOneShotAcrossBlockBoundaries() {
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var pieces = SHA256()
            var i = 0
            while i < length {
                let step = min(1 + i % 13, length - i)
                pieces.update(bytes[i..<i + step])
                i += step
            }
            XCTAssertEqual(pieces.finalize().map { String(format: "%02x", $0) }.joined(),
                           SHA256.hexDigest(of: bytes), "length \(length)")
        }
    }
}
