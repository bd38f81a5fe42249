import Foundation

/// Lévai & Zombori's data-dependent criterion: `|w_T| · G^γ`, where
/// `G = Σ |∂L/∂w|` over every minibatch of the round (`during-training`) or
/// over one extra pass over the training data at the final weights
/// (`end-of-round`). γ = 1 is the paper's criterion; γ = 0 is magnitude.
public struct DataDependentCriterion: PruningCriterion {
    public enum Accumulation: String, Sendable, CaseIterable {
        case duringTraining = "during-training"
        case endOfRound = "end-of-round"
    }

    public let name = "data-dependent"
    public var gamma: Float
    public var accumulation: Accumulation
    /// Scoring batches for `end-of-round`; `nil` means one pass over the training set.
    public var endOfRoundBatches: Int?

    /// What a manifest may set.
    public static let parameters: [CriterionParameter] = [
        // score = |w| · G^gamma; gamma 0 is plain magnitude.
        .number("gamma", in: 0...16, default: 1),
        .choice("accumulate", Accumulation.allCases.map(\.rawValue), default: Accumulation.duringTraining.rawValue),
        // end-of-round only: batches of the extra pass; 0 = the whole training set.
        .number("batches", in: 0...1_000_000, integer: true, default: 0),
    ]

    /// From named values (defaults where absent).
    public init(parameters: CriterionParameters) throws {
        let word = parameters.text("accumulate") ?? Accumulation.duringTraining.rawValue
        guard let accumulation = Accumulation(rawValue: word) else {
            throw PruningError.invalidParameter(criterion: "data-dependent",
                "accumulate must be one of \(Accumulation.allCases.map(\.rawValue).joined(separator: ", ")), got '\(word)'")
        }
        try self.init(gamma: parameters.number("gamma").map(Float.init) ?? 1, accumulation: accumulation,
                      endOfRoundBatches: parameters.number("batches").map { Int($0) })
    }

    public init(gamma: Float = 1, accumulation: Accumulation = .duringTraining, endOfRoundBatches: Int? = nil) throws {
        guard gamma.isFinite, gamma >= 0 else {
            throw PruningError.invalidParameter(criterion: "data-dependent", "gamma must be a finite number ≥ 0, got \(gamma)")
        }
        self.gamma = gamma
        self.accumulation = accumulation
        self.endOfRoundBatches = endOfRoundBatches
    }

    public var requirements: CriterionRequirements {
        accumulation == .duringTraining ? .accumulatedGradients : .gradientOracle
    }

    public func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]] {
        let gradients: [[Float]]
        switch accumulation {
        case .duringTraining:
            gradients = try state.layers.map { layer in
                guard let g = layer.accumulatedGradient else {
                    throw PruningError.missingInput(criterion: name, "layer \(layer.name) has no accumulated gradient; the training loop must collect it")
                }
                return g
            }
        case .endOfRound:
            guard let oracle = context.oracle else {
                throw PruningError.missingInput(criterion: name, "end-of-round accumulation needs a gradient oracle")
            }
            gradients = try oracle.absoluteGradientSum(batches: endOfRoundBatches ?? 0)
        }
        let exponent = gamma
        return zip(state.layers, gradients).map { layer, g in
            (0..<layer.count).map { i in
                let magnitude = abs(layer.weights[i])
                // γ = 1 skips pow so the common case is exact and fast.
                let factor = exponent == 1 ? g[i] : (exponent == 0 ? 1 : powf(g[i], exponent))
                return magnitude * factor
            }
        }
    }
}
