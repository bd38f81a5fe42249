// gemm-bench: MatrixKernels.gemm against OpenBLAS cblas_sgemm, measured
// interleaved in one process so both see the same machine state.
//
// Usage: gemm-bench [--csv PATH] [--only SUBSTRING] [--threads 1,2] [--repetitions N] [--batch-ms MS]
import COpenBLAS
import Foundation
import MatrixKernels

struct Shape {
    let m: Int, n: Int, k: Int
    let transA: Transpose, transB: Transpose
    var label: String {
        "\(m)x\(n)x\(k) \(transA == .none ? "N" : "T")\(transB == .none ? "N" : "T")"
    }
}

var csvPath: String?
var only: String?
var threadCounts = [1, 2]
var repetitions = 31
var batchSeconds = 3e-3
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--csv": csvPath = arguments.popFirst()
    case "--only": only = arguments.popFirst()
    case "--threads": threadCounts = arguments.popFirst()!.split(separator: ",").map { Int($0)! }
    case "--repetitions": repetitions = Int(arguments.popFirst()!)!
    case "--batch-ms": batchSeconds = Double(arguments.popFirst()!)! / 1000
    default:
        FileHandle.standardError.write("usage: gemm-bench [--csv PATH] [--only SUBSTRING] [--threads 1,2] [--repetitions N]\n".data(using: .utf8)!)
        exit(2)
    }
}

var shapes: [Shape] = [256, 512, 1024, 2048].map { Shape(m: $0, n: $0, k: $0, transA: .none, transB: .none) }
for batch in [60, 512] {
    // LeNet-300-100 training products: forward X·W (784→300→100→10), the
    // weight gradient Xᵀ·dY, and the input gradient dY·Wᵀ.
    shapes += [
        Shape(m: batch, n: 300, k: 784, transA: .none, transB: .none),
        Shape(m: batch, n: 100, k: 300, transA: .none, transB: .none),
        Shape(m: batch, n: 10, k: 100, transA: .none, transB: .none),
        Shape(m: 784, n: 300, k: batch, transA: .transposed, transB: .none),
        Shape(m: batch, n: 784, k: 300, transA: .none, transB: .transposed),
    ]
}
// The same products as the trainer issues them: Dense stores W as [out, in]
// (PyTorch's layout), so the forward pass is X·Wᵀ, the weight gradient
// dYᵀ·X and the input gradient dY·W.
for batch in [60] {
    shapes += [(784, 300), (300, 100), (100, 10)].flatMap { inputs, outputs in
        [Shape(m: batch, n: outputs, k: inputs, transA: .none, transB: .transposed),
         Shape(m: outputs, n: inputs, k: batch, transA: .transposed, transB: .none),
         Shape(m: batch, n: inputs, k: outputs, transA: .none, transB: .none)]
    }
}
// ResNet-20's 3×3 convolutions as the trainer issues them, per group of
// examples (one image at 32×32 and 16×16, four at 8×8): forward W·cols
// (filters × pixels × taps), weight gradient dY·colsᵀ and input gradient
// Wᵀ·dY, whose depth is only the 16, 32 or 64 filters.
for (filters, pixels) in [(16, 1024), (32, 256), (64, 256)] {
    let taps = 9 * filters
    shapes += [Shape(m: filters, n: pixels, k: taps, transA: .none, transB: .none),
               Shape(m: filters, n: taps, k: pixels, transA: .none, transB: .transposed),
               Shape(m: taps, n: pixels, k: filters, transA: .transposed, transB: .none)]
}
if let only { shapes = shapes.filter { $0.label.contains(only) } }

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Seconds per call over one timed batch of `calls` calls (a batch lasts
/// a few ms, so the clock's resolution does not matter).
func measure(calls: Int, _ body: () -> Void) -> Double {
    let start = now()
    for _ in 0..<calls { body() }
    return (now() - start) / Double(calls)
}

func callsFor(flops: Double) -> Int { max(1, Int(batchSeconds * 30e9 / flops)) }

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "n/a"
}

print("OpenBLAS core: \(String(cString: openblas_get_corename()))")
print("load average at start: \(loadAverage())")
// `peak_percent` is against what the cores deliver now, not a datasheet:
// under KVM the vCPUs may be sharing one physical core at times.
func measurePeaks(_ when: String) -> [Int: Double] {
    var peaks: [Int: Double] = [:]
    for threads in threadCounts {
        peaks[threads] = (0..<3).map { _ in measurePeakGFLOPS(threads: threads) }.max()!
    }
    let listed = threadCounts.map { String(format: "%.1f on %d thread%@", peaks[$0]!, $0, $0 == 1 ? "" : "s") }
    print("measured FMA peak \(when): \(listed.joined(separator: ", ")) GFLOP/s")
    if let one = peaks[1], let two = peaks[2], two < 1.6 * one {
        print("warning: 2 threads reach only \(String(format: "%.2f", two / one))x the 1-thread peak: the vCPUs share a core now; 2-thread figures mean little")
    }
    return peaks
}
let peaks = measurePeaks("at start")

// Start-up costs (thread creation, first-touch of OpenBLAS's buffers, our
// workspaces) are paid here, before any shape is timed, for both sides.
do {
    let size = 512
    let x = [Float](repeating: 0.5, count: size * size)
    var y = [Float](repeating: 0, count: size * size)
    for threads in threadCounts {
        setThreadCount(threads)
        openblas_set_num_threads(Int32(threads))
        for _ in 0..<20 {
            gemm(m: size, n: size, k: size, a: x, lda: size, b: x, ldb: size, c: &y, ldc: size)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(size), Int32(size), Int32(size), 1,
                        x, Int32(size), x, Int32(size), 0, &y, Int32(size))
        }
    }
}
let header = String(format: "%-22@ %7@ %10@ %7@ %10@ %7@", "shape (m x n x k op)", "threads", "ours GF/s", "% peak", "OpenBLAS", "ratio")
print(header)
var csv = "m,n,k,trans_a,trans_b,threads,gflops,peak_percent,openblas_gflops,ratio\n"

var rng = SystemRandomNumberGenerator()
for shape in shapes {
    let (m, n, k) = (shape.m, shape.n, shape.k)
    let lda = shape.transA == .none ? k : m
    let ldb = shape.transB == .none ? n : k
    let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
    let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
    var ours = [Float](repeating: 0, count: m * n)
    var theirs = [Float](repeating: 0, count: m * n)
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    let calls = callsFor(flops: flops)
    for threads in threadCounts {
        setThreadCount(threads)
        openblas_set_num_threads(Int32(threads))
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                ours.withUnsafeMutableBufferPointer { ours in
                    theirs.withUnsafeMutableBufferPointer { theirs in
                        let runOurs = {
                            gemm(transA: shape.transA, transB: shape.transB, m: m, n: n, k: k,
                                 a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                 c: ours.baseAddress!, ldc: n)
                        }
                        let runTheirs = {
                            cblas_sgemm(CblasRowMajor,
                                        shape.transA == .none ? CblasNoTrans : CblasTrans,
                                        shape.transB == .none ? CblasNoTrans : CblasTrans,
                                        Int32(m), Int32(n), Int32(k), 1, a.baseAddress!, Int32(lda),
                                        b.baseAddress!, Int32(ldb), 0, theirs.baseAddress!, Int32(n))
                        }
                        // Warm-up: caches, page faults, thread start-up on both sides.
                        _ = measure(calls: max(1, calls / 4), runOurs)
                        _ = measure(calls: max(1, calls / 4), runTheirs)
                        var oursTimes: [Double] = [], theirTimes: [Double] = []
                        // Big shapes take 0.1-0.5 s a call: fewer repetitions (at least 5).
                        let batchTime = Double(calls) * flops / 30e9
                        let repetitions = min(repetitions, max(5, Int(2.0 / batchTime)))
                        for _ in 0..<repetitions {
                            oursTimes.append(measure(calls: calls, runOurs))
                            theirTimes.append(measure(calls: calls, runTheirs))
                        }
                        // Best of the repetitions: the machine is shared, and the
                        // fastest batch is the one least disturbed by other work.
                        let oursGF = flops / oursTimes.min()! / 1e9
                        let theirGF = flops / theirTimes.min()! / 1e9
                        var worst: Float = 0
                        for i in 0..<(m * n) { worst = max(worst, abs(ours[i] - theirs[i])) }
                        let peak = 100 * oursGF / peaks[threads]!
                        let ratio = oursGF / theirGF
                        print(String(format: "%-22@ %7d %10.1f %7.1f %10.1f %7.2f%@", shape.label, threads, oursGF, peak,
                                     theirGF, ratio, worst > 1e-3 * Float(k).squareRoot() ? "  MISMATCH \(worst)" : ""))
                        csv += "\(m),\(n),\(k),\(shape.transA == .none ? "N" : "T"),\(shape.transB == .none ? "N" : "T"),"
                        csv += String(format: "%d,%.1f,%.1f,%.1f,%.3f\n", threads, oursGF, peak, theirGF, ratio)
                    }
                }
            }
        }
    }
}

print("load average at end: \(loadAverage())")
_ = measurePeaks("at end")

if let csvPath {
    let url = URL(fileURLWithPath: csvPath)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try csv.write(to: url, atomically: true, encoding: .utf8)
    print("wrote \(csvPath)")
}
