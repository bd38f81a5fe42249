import XCTest
@testable import Datasets

final class MD5Tests: XCTestCase {
    private func md5(_ text: String) -> String {
        var hasher = MD5()
        hasher.update(Array(text.utf8))
        return hasher.finalize()
    }

    func testRFC1321Vectors() {
        XCTAssertEqual(md5(""), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(md5("abc"), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(md5("message digest"), "f96b697d7cb7938d525a2f31aaf161d0")
        XCTAssertEqual(md5(String(repeating: "1234567890", count: 8)), "57edf4a22be3c955ac49da2e2107b67a")
    }

    func testChunkedUpdatesEqualOneUpdate() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var whole = MD5()
        whole.update(bytes)
        var pieces = MD5()
        var offset = 0
        for size in [1, 63, 64, 65, 500, 3] + [Int](repeating: 1000, count: 10) where offset < bytes.count {
            let end = min(bytes.count, offset + size)
            pieces.update(bytes[offset..<end])
            offset = end
        }
        pieces.update(bytes[offset...])
        XCTAssertEqual(whole.finalize(), pieces.finalize())
    }
}
