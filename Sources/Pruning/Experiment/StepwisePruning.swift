import Foundation

/// Scores and selects down to `density` in `criterion.pruningSteps` steps.
///
/// One step (every single-shot criterion) is score, then select to `density`.
/// With `n > 1` steps (SynFlow) step `k` selects to `density^(k/n)`, the
/// exponential schedule of Tanaka et al., and `apply` installs the masks
/// before the next step scores, so the criterion sees the network it has
/// pruned so far; the last step selects to `density` itself, so the achieved
/// density is the requested one to one weight, as for single-shot criteria.
///
/// - Parameters:
///   - state: the network's prunable state now (called before every step).
///   - request: the selection request for an amount (scope, exclusions).
///   - apply: installs a step's masks in the network.
/// - Returns: the last step's selection, with NaN scores counted over all steps.
func pruneStepwise(criterion: PruningCriterion, density: Double, context: inout ScoringContext,
                   state: () throws -> PruningState, request: (PruningAmount) -> SelectionRequest,
                   apply: ([[Bool]]) throws -> Void) throws -> SelectionResult {
    let steps = criterion.pruningSteps
    guard steps >= 1 else { throw PruningError.invalidAmount("\(criterion.name) asks for \(steps) pruning steps") }
    var nanScores = 0
    var last: SelectionResult?
    for step in 1...steps {
        let current = try state()
        let scores = try criterion.scores(for: current, context: &context)
        let target = step == steps ? density : pow(density, Double(step) / Double(steps))
        var selection = try selectMasks(scores: scores, state: current, request: request(.density(target)))
        nanScores += selection.nanScores
        try apply(selection.masks)
        selection.nanScores = nanScores
        last = selection
    }
    return last!
}
