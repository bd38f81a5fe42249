import XCTest
@testable import Datasets

final class DatasetErrorTests: XCTestCase {
    func testDescriptionNamesFileAndReason() {
        let error = DatasetError("data/x.gz", .countMismatch(images: 3, labels: 2))
        XCTAssertEqual(error.description, "data/x.gz: 3 images but 2 labels")
    }
}
