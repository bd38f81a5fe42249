import Foundation
import XCTest
@testable import Pruning

/// A schedule is one file plus one registry line: everything else (manifest
/// keys, hashing, validation) comes from its declaration.
final class ScheduleRegistryTests: XCTestCase {
    func testEveryRegisteredScheduleRoundTripsAndChecksItsParameters() throws {
        for definition in ScheduleRegistry.all {
            var values: ScheduleValues = [:]
            for parameter in definition.parameters {
                values[parameter.name] = parameter.defaultValue ?? (parameter.integer ? 2 : 0.5)
            }
            let schedule = try PruningSchedule(kind: definition.kind, values: values)
            let decoded = try JSONDecoder().decode(PruningSchedule.self, from: JSONEncoder().encode(schedule))
            XCTAssertEqual(decoded, schedule, definition.kind)
            XCTAssertEqual(schedule.requestedDensity(afterRound: 0), 1, "round 0 is dense (\(definition.kind))")
            for parameter in definition.parameters where parameter.defaultValue == nil {
                var missing = values
                missing[parameter.name] = nil
                XCTAssertThrowsError(try PruningSchedule(kind: definition.kind, values: missing), "\(definition.kind) without \(parameter.name)")
                missing[parameter.name] = parameter.range.upperBound + 1
                XCTAssertThrowsError(try PruningSchedule(kind: definition.kind, values: missing), "\(definition.kind) \(parameter.name) too large")
            }
            XCTAssertThrowsError(try PruningSchedule(kind: definition.kind, values: values.merging(["nonsense": 1]) { $1 }))
        }
        XCTAssertThrowsError(try PruningSchedule(kind: "cyclic", values: [:])) { error in
            XCTAssertTrue("\(error)".contains("known: iterative, early-one-shot, at-init"), "\(error)")
        }
    }

    func testIterativeDensitiesAndEncoding() throws {
        let schedule = PruningSchedule.iterative(rate: 0.5, rounds: 3, rewindIteration: 0)
        XCTAssertEqual((0...3).map(schedule.requestedDensity(afterRound:)), [1, 0.5, 0.25, 0.125])
        XCTAssertEqual(schedule.reportedRounds, 0...3)
        XCTAssertEqual(schedule.plannedEpochs(epochsPerRound: 2), 8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        XCTAssertEqual(String(decoding: try encoder.encode(schedule), as: UTF8.self),
                       #"{"kind":"iterative","rate":0.5,"rewindIteration":0,"rounds":3}"#)
    }
}
