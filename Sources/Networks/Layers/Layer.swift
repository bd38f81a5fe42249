/// Whether a forward pass trains (batch statistics, running averages
/// updated) or evaluates (running statistics, nothing updated).
public enum Mode: Sendable {
    case training
    case evaluation
}

/// One stage of a network with a forward and a backward pass over a batch.
///
/// A layer owns its output and input-gradient buffers, sized once per batch
/// capacity by `prepare`, and remembers its input pointer between `forward`
/// and `backward`; the caller keeps that input alive and unchanged until the
/// backward pass. `backward` *sets* (does not accumulate) the gradients of
/// the layer's parameters and never modifies `outputGradient`.
protocol Layer: AnyObject {
    /// Stable name, the prefix of its parameters' names.
    var name: String { get }
    /// Trainable tensors and state, in a fixed order.
    var parameters: [Parameter] { get }
    /// The shape this layer produces from `input`, or a reason it cannot.
    func outputShape(for input: FeatureShape) throws -> FeatureShape
    /// Allocates buffers for batches of up to `batchCapacity` examples of `inputShape`.
    func prepare(inputShape: FeatureShape, batchCapacity: Int)
    /// Computes the output of `count` examples; the result lives in the layer's buffer.
    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float>
    /// Given ∂L/∂output, sets the parameters' gradients and returns ∂L/∂input
    /// (or `nil` when `needsInputGradient` is false, saving the work).
    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>?
}

extension Layer {
    var parameters: [Parameter] { [] }
}

/// A layer with a data-dependent piecewise choice (ReLU on/off, max-pool
/// position) that can be frozen at the last forward pass, making the network
/// smooth in its weights around that point (see `Network.withFrozenActivationPatterns`).
protocol ActivationPatternLayer: AnyObject {
    /// Records the choices of the last forward pass and uses them until thawed.
    func freezePattern()
    func thawPattern()
}

/// Why a network cannot be built as described.
public struct NetworkError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
