import ArgumentParser
import Foundation

/// Writes one line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Runs `body`, turning any error into one line `error: <file>: <reason>` on
/// standard error and exit status 1 (never a trap or a stack trace).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as CustomStringConvertible {
        printError("error: \(error.description)")
        throw ExitCode(1)
    } catch {
        printError("error: \(error.localizedDescription)")
        throw ExitCode(1)
    }
}
