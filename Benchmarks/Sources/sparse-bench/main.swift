// sparse-bench: one layer's training pass (forward + backward) on the dense
// path against the sparse path, at densities 1, 1/2, …, 1/256, the two
// timed in turns in one process so both see the same machine state.
//
// Usage: sparse-bench [--csv PATH] [--only SUBSTRING] [--threads N] [--rounds N] [--densities 0,6]
//                     [--path sparse|dense] (time one path only, for profiling: no CSV row)
import Foundation
import MatrixKernels
import Networks

struct LayerCase {
    let label: String
    let batch: Int
    let make: () -> IsolatedLayer
}

var csvPath: String?
var only: String?
var threads = 2
var rounds = 5
var densityExponents = Array(0...8)
var onlyPath: Execution?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--csv": csvPath = arguments.popFirst()
    case "--only": only = arguments.popFirst()
    case "--threads": threads = Int(arguments.popFirst()!)!
    case "--rounds": rounds = Int(arguments.popFirst()!)!
    case "--path": onlyPath = Execution(rawValue: arguments.popFirst()!)
    case "--densities": densityExponents = arguments.popFirst()!.split(separator: ",").map { Int($0)! } // 6 = 1/64
    default:
        FileHandle.standardError.write("usage: sparse-bench [--csv PATH] [--only SUBSTRING] [--threads N] [--rounds N] [--densities 0,6 (log2 of 1/density)]\n".data(using: .utf8)!)
        exit(2)
    }
}
setThreadCount(threads)

// LeNet-300-100's fc1 computes no input gradient (it is the first layer).
var cases: [LayerCase] = []
for batch in [60, 128] {
    cases.append(LayerCase(label: "lenet fc1 784x300", batch: batch) {
        IsolatedLayer(denseInputs: 784, outputs: 300, batch: batch, computesInputGradient: false) })
    cases.append(LayerCase(label: "lenet fc2 300x100", batch: batch) {
        IsolatedLayer(denseInputs: 300, outputs: 100, batch: batch) })
}
for (channels, size) in [(16, 32), (32, 16), (64, 8)] {
    cases.append(LayerCase(label: "resnet20 conv3x3 \(channels)ch \(size)x\(size)", batch: 128) {
        IsolatedLayer(convolutionChannels: channels, outputs: channels, size: size, batch: 128) })
}
cases.append(LayerCase(label: "vgg conv3x3 512ch 4x4", batch: 128) {
    IsolatedLayer(convolutionChannels: 512, outputs: 512, size: 4, batch: 128) })

let densities = densityExponents.map { 1.0 / Double(1 << $0) }

/// Seconds per training pass: the best of `rounds` timings of `passes` passes.
func secondsPerPass(_ layer: IsolatedLayer, passes: Int) -> Double {
    let start = ContinuousClock.now
    for _ in 0..<passes { layer.trainingPass() }
    let elapsed = ContinuousClock.now - start
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18) / Double(passes)
}

var rows = ["layer,batch,density,dense_seconds,sparse_seconds,speedup,auto_path,auto_speedup,dense_gflops"]
print(String(format: "%-30@ %5@ %9@ %12@ %12@ %8@ %8@ %8@", "layer", "batch", "density", "dense_s", "sparse_s", "speedup", "auto", "auto_speedup"))
for layerCase in cases where only.map({ layerCase.label.contains($0) }) ?? true {
    let layer = layerCase.make()
    // Enough passes for ~30 ms per timing on the dense path.
    layer.execution = .dense
    layer.trainingPass()
    let probe = secondsPerPass(layer, passes: 1)
    let passes = max(1, Int(0.03 / probe))
    for density in densities {
        layer.prune(toDensity: density, seed: 7)
        var best: [Execution: Double] = [.dense: .infinity, .sparse: .infinity]
        if let onlyPath {
            layer.execution = onlyPath
            layer.trainingPass()
            let seconds = (0..<rounds).map { _ in secondsPerPass(layer, passes: passes) }.min()!
            print(String(format: "%-30@ %5d %9.5f %@ %12.6f", layerCase.label, layerCase.batch, density,
                         onlyPath.rawValue, seconds))
            continue
        }
        best[.auto] = .infinity
        // `auto` is timed on its own only when it mixes the paths; otherwise
        // it runs exactly one of them.
        let auto = layer.autoPath
        let order: [Execution] = auto == "products" ? [.dense, .sparse, .auto] : [.dense, .sparse]
        for round in 0..<rounds {
            // Rotate which path goes first, so none always follows another.
            for k in order.indices {
                let execution = order[(round + k) % order.count]
                layer.execution = execution
                layer.trainingPass() // warm: the compressed rows are built on first use
                best[execution] = min(best[execution]!, secondsPerPass(layer, passes: passes))
            }
        }
        let dense = best[.dense]!, sparse = best[.sparse]!
        let autoSpeedup = dense / best[auto == "products" ? .auto : auto == "sparse" ? .sparse : .dense]!
        let gflops = Double(layer.denseMultiplyAdds) * 2 / dense / 1e9
        rows.append("\(layerCase.label),\(layerCase.batch),\(density),\(dense),\(sparse),\(dense / sparse),\(auto),"
                    + "\(autoSpeedup),\(gflops)")
        print(String(format: "%-30@ %5d %9.5f %12.6f %12.6f %7.2fx %8@ %7.2fx", layerCase.label, layerCase.batch, density,
                     dense, sparse, dense / sparse, auto, autoSpeedup))
    }
}
if let csvPath {
    try! (rows.joined(separator: "\n") + "\n").write(toFile: csvPath, atomically: true, encoding: .utf8)
}
