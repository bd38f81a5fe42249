import Datasets
import Foundation
import Networks
import Randomness

/// Runs one pruning experiment: the pipeline that owns training, scoring,
/// selection, rewinding and evaluation. Criteria only score; schedules only
/// decide when. Everything is determined by the configuration's seeds, so
/// the same configuration gives bit-identical results.
public final class PruningExperiment {
    public let configuration: ExperimentConfiguration
    public let data: DatasetPair
    public let normalization: Normalization
    private let criterion: PruningCriterion

    /// Called after every round with its result, the masks it trained, and
    /// the checkpoint to persist (the caller writes it atomically).
    public var onRoundFinished: ((RoundResult, [String: [Bool]], ExperimentCheckpoint) throws -> Void)?
    /// Called after every epoch (round, epoch record): progress displays.
    public var onEpoch: ((Int, EpochRecord) -> Void)?
    /// Polled at every training step: when set, the experiment hands the
    /// round's state to `onInRoundCheckpoint` and throws `ExperimentInterrupted`.
    public var stopRequest: StopRequest?
    /// Also hand the round's state to `onInRoundCheckpoint` this often while training.
    public var checkpointInterval: Duration?
    /// Persists an in-round checkpoint (the caller writes it atomically).
    public var onInRoundCheckpoint: ((InRoundCheckpoint) throws -> Void)?
    /// The in-round state `run` resumes from (set by `run` for the schedule's pipeline).
    private var resumingInRound: InRoundCheckpoint?
    /// Called after every optimizer step (round, step): observers and tests.
    public var onStep: ((Int, StepInfo) -> Void)?
    /// Dense prefixes shared with other experiments of a sweep (see
    /// `DensePrefixCache`); `nil` trains every prefix.
    public var prefixCache: DensePrefixCache?

    public init(configuration: ExperimentConfiguration, data: DatasetPair) throws {
        self.configuration = configuration
        self.data = data
        self.normalization = configuration.data.normalization.normalization(for: data.train)
        criterion = try CriterionRegistry.make(configuration.criterion, parameters: configuration.criterionParameters)
        try validate()
    }

    private func validate() throws {
        try Self.checkCompatibility(of: criterion, with: configuration.schedule, epochsPerRound: configuration.training.epochs)
    }

    /// Whether `criterion` can run under `schedule` at all (before any data is loaded).
    static func checkCompatibility(of criterion: PruningCriterion, with schedule: PruningSchedule, epochsPerRound: Int) throws {
        if let problem = schedule.definition.problem(with: criterion, epochsPerRound: epochsPerRound) {
            throw PruningError.invalidParameter(criterion: criterion.name, problem)
        }
    }

    private func makeNetwork(seed: UInt64) throws -> Network {
        let shape = data.train.shape
        return try ModelRegistry.make(configuration.model,
                                      inputShape: FeatureShape(channels: shape.channels, height: shape.height, width: shape.width),
                                      classCount: data.train.classCount, seed: seed,
                                      initializer: configuration.initializer)
    }

    /// Runs the experiment (or its remainder, after `checkpoint` and, within
    /// the next round, `inRound`) and returns every round's result.
    public func run(resumingFrom checkpoint: ExperimentCheckpoint? = nil,
                    inRound: InRoundCheckpoint? = nil) throws -> [RoundResult] {
        if let checkpoint, checkpoint.finished { return checkpoint.completedRounds }
        resumingInRound = inRound
        defer { resumingInRound = nil }
        return try configuration.schedule.definition.run(self, resumingFrom: checkpoint)
    }

    // MARK: - Iterative

    /// The iterative pipeline (`IterativeSchedule`): rounds of training,
    /// scoring, pruning and rewinding, a checkpoint after each.
    func runIterative(rate: Double, rounds: Int, rewindIteration: Int,
                              checkpoint: ExperimentCheckpoint?) throws -> [RoundResult] {
        let network = try makeNetwork(seed: configuration.seeds.seed(for: .initialization))
        let initial = network.snapshot()
        var rewind: NetworkSnapshot? = rewindIteration == 0 ? initial : nil
        var results = checkpoint?.completedRounds ?? []
        var pending = (layers: densityRecords(of: network, requested: 1), requested: 1.0, nanScores: 0)
        if let checkpoint {
            try setMasks(network, checkpoint.masks.mapValues(\.values))
            pending = (checkpoint.pendingLayers, checkpoint.pendingRequestedDensity, checkpoint.pendingNaNScores)
            if let values = checkpoint.rewindValues {
                var snapshot = initial
                for (name, packed) in values { snapshot.values[name] = packed.values }
                rewind = snapshot
            }
        }
        let needsGradients = criterion.requirements.contains(.accumulatedGradients)
        let prefixKey = DensePrefixCache.key(configuration, kind: "iterative round 0, rewind to step \(rewindIteration)")
        for round in results.count...rounds {
            let start = ContinuousClock.now
            // Survivors go back to their rewind values (round 0: the initialisation).
            try network.restore(rewind ?? initial)
            let result: RoundResult
            let accumulated: [[Float]]?
            // Resuming inside this round (its trainer state saved at a stop or periodically)?
            let inRound = resumingInRound.flatMap { $0.header.round == round ? $0 : nil }
            if round == 0, inRound == nil, let shared = prefixCache?.entry(prefixKey),
               let trained = shared.trainedWeights, let sharedResult = shared.result {
                // The same dense round another run of the sweep trained.
                try network.restore(trained)
                if rewindIteration > 0 { rewind = shared.rewindWeights }
                accumulated = shared.gradients
                result = sharedResult
            } else {
                // Round 0 collects G for whoever shares it, whatever this criterion needs.
                var accumulator = needsGradients || (round == 0 && prefixCache != nil) ? GradientAccumulator(network: network) : nil
                let capture = (round == 0 && rewindIteration > 0) ? RewindCapture(iteration: rewindIteration) : nil
                let trainer = makeTrainer(network, round: round, extra: [accumulator as TrainingCallback?, capture].compactMap { $0 })
                var elapsedBefore = 0.0
                if let inRound {
                    // The in-round state holds the trainer's full position (late rewinding's included).
                    accumulator = try resume(trainer, accumulator: accumulator, needsGradients: needsGradients, from: inRound)
                    let captured = inRound.tensors(prefixed: "rewind/")
                    if let capture, !captured.isEmpty {
                        var snapshot = initial
                        for (name, values) in captured { snapshot.values[name] = values }
                        capture.restore(snapshot)
                    }
                    elapsedBefore = inRound.header.elapsedSeconds
                } else if round > 0, rewindIteration > 0 {
                    // Late rewinding (Frankle et al. 2020): a later round resumes at
                    // step k, with step k's data order and learning-rate position,
                    // and trains the remaining T - k steps.
                    trainer.start(atStep: rewindIteration)
                }
                try trainResumably(trainer) { [accumulator] in
                    self.inRoundState(round: round, elapsed: elapsedBefore + (ContinuousClock.now - start).seconds,
                                      trainer: trainer, accumulator: accumulator, capture: capture, selection: nil)
                }
                if round == 0, rewindIteration > 0 {
                    guard let captured = capture?.snapshot else {
                        throw PruningError.invalidAmount("rewind iteration \(rewindIteration) is beyond the \(trainer.globalStep) steps of a round")
                    }
                    rewind = captured
                }
                var measured = trainer
                if round > 0, configuration.control != .none {
                    measured = try trainControl(masksOf: network, rewind: rewind ?? initial, round: round,
                                                startStep: rewindIteration)
                }
                let collapsed = pending.layers.contains { $0.weights > 0 && $0.remaining == 0 }
                result = roundResult(round: round, trainer: measured, fromEpoch: 0, layers: pending.layers,
                                     requested: pending.requested, collapsed: collapsed, nanScores: pending.nanScores,
                                     seconds: elapsedBefore + (ContinuousClock.now - start).seconds)
                accumulated = accumulator?.sums
                if round == 0, let prefixCache, let sums = accumulator?.sums {
                    prefixCache.store(.init(trainedWeights: network.snapshot(), rewindWeights: rewindIteration > 0 ? rewind : nil,
                                            result: result, trainer: nil, gradients: sums), as: prefixKey)
                }
            }
            results.append(result)
            let trainedMasks = currentMasks(network)
            let finished = round == rounds || result.status == RoundStatus.diverged
            if !finished {
                let state = pruningState(network, reference: rewind ?? initial, accumulated: needsGradients ? accumulated : nil)
                var context = ScoringContext(maskSeed: configuration.seeds.seed(for: .mask, round: round),
                                             oracle: oracle(for: network, round: round))
                let scores = try criterion.scores(for: state, context: &context)
                let selection = try selectMasks(scores: scores, state: state, request: request(.fractionOfRemaining(rate)))
                try setMasks(network, Dictionary(uniqueKeysWithValues: zip(state.layers.map(\.name), selection.masks.map { $0.map { $0 ? Float(1) : 0 } })))
                pending = (selection.layers.map(LayerDensityRecord.init), selection.requestedDensity, selection.nanScores)
            }
            let next = ExperimentCheckpoint(
                completedRounds: results,
                masks: network.prunableTensors.reduce(into: [:]) { $0[$1.name] = PackedFloats($1.mask!) },
                pendingLayers: pending.layers, pendingRequestedDensity: pending.requested, pendingNaNScores: pending.nanScores,
                rewindValues: rewindIteration > 0 ? rewind.map { snapshot in snapshot.values.mapValues(PackedFloats.init) } : nil,
                finished: finished)
            try onRoundFinished?(result, trainedMasks, next)
            if finished { break }
        }
        return results
    }

    // MARK: - One-shot (early and at initialisation)

    /// The one-shot pipeline (`EarlyOneShotSchedule`, `AtInitializationSchedule`):
    /// `denseEpochs` of dense training (0: none), one prune to `density`, training on.
    func runOneShot(density: Double, denseEpochs: Int) throws -> RoundResult {
        let start = ContinuousClock.now
        let network = try makeNetwork(seed: configuration.seeds.seed(for: .initialization))
        let initial = network.snapshot()
        let needsGradients = criterion.requirements.contains(.accumulatedGradients)
        let shareable = denseEpochs > 0 && prefixCache != nil
        let prefixKey = DensePrefixCache.key(configuration, kind: "dense epochs \(denseEpochs)")
        let inRound = resumingInRound.flatMap { $0.header.round == 1 ? $0 : nil }
        let shared = shareable && inRound == nil ? prefixCache?.entry(prefixKey) : nil
        // Set once pruned (restored when the interruption came after pruning).
        var selection = inRound?.header.selection
        var accumulator = (needsGradients || shareable) && shared == nil && selection == nil ? GradientAccumulator(network: network) : nil
        let trainer = makeTrainer(network, round: 1, extra: accumulator.map { [$0] } ?? [])
        var elapsedBefore = 0.0
        if let inRound {
            accumulator = try resume(trainer, accumulator: accumulator, needsGradients: needsGradients && selection == nil,
                                     from: inRound)
            elapsedBefore = inRound.header.elapsedSeconds
        }
        func elapsed() -> Double { elapsedBefore + (ContinuousClock.now - start).seconds }
        var accumulated = accumulator?.sums
        if selection == nil {
            if let shared, let state = shared.trainer {
                // The dense epochs another run of the sweep trained: the same trainer state.
                try trainer.restore(state)
                accumulated = shared.gradients
            } else if denseEpochs > 0 {
                try trainResumably(trainer, untilEpoch: denseEpochs) { [accumulator] in
                    self.inRoundState(round: 1, elapsed: elapsed(), trainer: trainer, accumulator: accumulator,
                                      capture: nil, selection: nil)
                }
                accumulated = accumulator?.sums
                if shareable, let sums = accumulator?.sums {
                    prefixCache?.store(.init(trainedWeights: nil, rewindWeights: nil, result: nil, trainer: trainer.checkpoint(),
                                             gradients: sums), as: prefixKey)
                }
            }
            guard trainer.status == .inProgress else {
                // Diverged while dense: the run's one result, recorded like any other.
                let result = roundResult(round: 1, trainer: trainer, fromEpoch: 0, layers: densityRecords(of: network, requested: density),
                                         requested: density, collapsed: false, nanScores: 0, seconds: elapsed())
                try finishOneShot(result, network: network, density: density)
                return result
            }
        }
        // G covers only the dense epochs: stop accumulating once pruned.
        trainer.callbacks.removeAll { $0 === accumulator }
        if selection == nil {
            var context = ScoringContext(maskSeed: configuration.seeds.seed(for: .mask, round: 0), oracle: oracle(for: network, round: 0))
            let names = network.prunableTensors.map(\.name)
            // One step for single-shot criteria; SynFlow's exponential schedule otherwise.
            let pruned = try pruneStepwise(
                criterion: criterion, density: density, context: &context,
                state: { pruningState(network, reference: initial, accumulated: needsGradients ? accumulated : nil) },
                request: request,
                apply: { masks in try setMasks(network, Dictionary(uniqueKeysWithValues: zip(names, masks.map { $0.map { $0 ? Float(1) : 0 } }))) })
            selection = InRoundCheckpoint.Selection(layers: pruned.layers.map(LayerDensityRecord.init),
                                                    requestedDensity: pruned.requestedDensity,
                                                    collapsed: pruned.collapsed, nanScores: pruned.nanScores)
        }
        let pruned = selection!
        var measured = trainer
        var fromEpoch = denseEpochs
        if configuration.control != .none {
            measured = try trainControl(masksOf: network, rewind: initial, round: 1, epochs: configuration.training.epochs - denseEpochs)
            fromEpoch = 0
        } else {
            try trainResumably(trainer) {
                self.inRoundState(round: 1, elapsed: elapsed(), trainer: trainer, accumulator: nil, capture: nil,
                                  selection: pruned)
            }
        }
        let result = roundResult(round: 1, trainer: measured, fromEpoch: fromEpoch, layers: pruned.layers,
                                 requested: pruned.requestedDensity, collapsed: pruned.collapsed,
                                 nanScores: pruned.nanScores, seconds: elapsed())
        try finishOneShot(result, network: network, density: density)
        return result
    }

    private func finishOneShot(_ result: RoundResult, network: Network, density: Double) throws {
        try onRoundFinished?(result, currentMasks(network), ExperimentCheckpoint(
            completedRounds: [result], masks: [:], pendingLayers: [], pendingRequestedDensity: density,
            pendingNaNScores: 0, rewindValues: nil, finished: true))
    }

    // MARK: - Stopping and resuming within a round

    /// Trains `trainer` (to `untilEpoch`, if given) honouring `stopRequest`
    /// and `checkpointInterval`; `state` describes the round at the moment
    /// it is called. On a stop, the state is persisted and
    /// `ExperimentInterrupted` thrown.
    private func trainResumably(_ trainer: Trainer, untilEpoch: Int? = nil,
                                state: @escaping () throws -> InRoundCheckpoint) throws {
        trainer.stopRequest = stopRequest
        var periodic: PeriodicCheckpoint?
        if let interval = checkpointInterval, let write = onInRoundCheckpoint {
            let callback = PeriodicCheckpoint(interval: interval) { try write(state()) }
            trainer.callbacks.append(callback)
            periodic = callback
        }
        defer { trainer.callbacks.removeAll { $0 === periodic } }
        trainer.train(untilEpoch: untilEpoch)
        if let failure = periodic?.failure { throw failure }
        if trainer.stoppedEarly {
            try onInRoundCheckpoint?(state())
            throw ExperimentInterrupted()
        }
    }

    /// The round's state now: the trainer's checkpoint plus the accumulated
    /// gradient sums and a late-rewind capture, when they exist.
    private func inRoundState(round: Int, elapsed: Double, trainer: Trainer, accumulator: GradientAccumulator?,
                              capture: RewindCapture?, selection: InRoundCheckpoint.Selection?) -> InRoundCheckpoint {
        var checkpoint = trainer.checkpoint()
        if let accumulator {
            for (tensor, sums) in zip(accumulator.tensors, accumulator.sums) { checkpoint.append("accumulated/" + tensor.name, sums) }
        }
        if let captured = capture?.snapshot {
            for name in captured.values.keys.sorted() { checkpoint.append("rewind/" + name, captured.values[name]!) }
        }
        return InRoundCheckpoint(header: .init(round: round, elapsedSeconds: elapsed, selection: selection), trainer: checkpoint)
    }

    /// Puts `trainer` (and the accumulated sums) back where `inRound` left
    /// them; returns the accumulator to keep using, `nil` when the saved
    /// state has no sums and the criterion does not need them (the sums
    /// were only being collected for the dense-prefix cache, which then
    /// does not get this prefix).
    private func resume(_ trainer: Trainer, accumulator: GradientAccumulator?, needsGradients: Bool,
                        from inRound: InRoundCheckpoint) throws -> GradientAccumulator? {
        do {
            try trainer.restore(inRound.trainer)
        } catch {
            throw PruningError.invalidAmount("in-round checkpoint does not fit this run: \(error)")
        }
        guard let accumulator else { return nil }
        let saved = inRound.tensors(prefixed: "accumulated/")
        if saved.isEmpty && !needsGradients {
            trainer.callbacks.removeAll { $0 === accumulator }
            return nil
        }
        try accumulator.restore(saved)
        return accumulator
    }

    // MARK: - Pieces

    private func makeTrainer(_ network: Network, round: Int, extra: [TrainingCallback], epochs: Int? = nil) -> Trainer {
        var training = configuration.training
        if let epochs { training.epochs = epochs }
        let trainer = Trainer(network: network, data: data, configuration: training, normalization: normalization)
        trainer.callbacks = extra + [ExperimentReporter(
            epoch: { [weak self] record in self?.onEpoch?(round, record) },
            step: { [weak self] step in self?.onStep?(round, step) })]
        return trainer
    }

    /// Trains the control for a ticket: its mask on fresh weights (`reinit`),
    /// or a shuffled mask on the ticket's rewind weights (`shuffle-mask`).
    private func trainControl(masksOf ticket: Network, rewind: NetworkSnapshot, round: Int, epochs: Int? = nil,
                              startStep: Int = 0) throws -> Trainer {
        let masks = ticket.prunableTensors.map { $0.mask! }
        let names = ticket.prunableTensors.map(\.name)
        let control: Network
        var controlMasks = masks
        switch configuration.control {
        case .none:
            preconditionFailure("no control requested")
        case .reinit:
            control = try makeNetwork(seed: configuration.seeds.seed(for: .reinitialization, round: round))
        case .shuffleMask:
            control = try makeNetwork(seed: configuration.seeds.seed(for: .initialization))
            try control.restore(rewind)
            let shuffled = MaskControls.shuffled(masks.map { $0.map { $0 != 0 } },
                                                 seed: configuration.seeds.seed(for: .maskShuffle, round: round))
            controlMasks = shuffled.map { $0.map { $0 ? Float(1) : 0 } }
        }
        try setMasks(control, Dictionary(uniqueKeysWithValues: zip(names, controlMasks)))
        let trainer = makeTrainer(control, round: round, extra: [], epochs: epochs)
        // The control trains exactly as the ticket does, late rewinding included.
        if startStep > 0 { trainer.start(atStep: startStep) }
        // A stop here saves nothing: the round resumes from its last in-round checkpoint, which is exact too.
        trainer.stopRequest = stopRequest
        trainer.train()
        if trainer.stoppedEarly { throw ExperimentInterrupted() }
        return trainer
    }

    private func request(_ amount: PruningAmount) -> SelectionRequest {
        SelectionRequest(scope: configuration.scope, amount: amount, excludedLayers: Set(configuration.excludedLayers))
    }

    private func oracle(for network: Network, round: Int) -> GradientOracle {
        NetworkGradientOracle(network: network, data: data.train, normalization: normalization,
                              batchSize: configuration.training.batchSize,
                              seed: configuration.seeds.seed(for: .scoring, round: round))
    }

    private func pruningState(_ network: Network, reference: NetworkSnapshot, accumulated: [[Float]]?) -> PruningState {
        let tensors = network.prunableTensors
        return PruningState(layers: tensors.enumerated().map { index, tensor in
            PrunableLayer(name: tensor.name, isOutput: index == tensors.count - 1, weights: tensor.values,
                          initialWeights: reference.values[tensor.name] ?? tensor.values,
                          mask: tensor.mask!.map { $0 != 0 }, accumulatedGradient: accumulated?[index])
        })
    }

    private func setMasks(_ network: Network, _ masks: [String: [Float]]) throws {
        for tensor in network.prunableTensors {
            guard let mask = masks[tensor.name], mask.count == tensor.count else {
                throw PruningError.unknownLayer(tensor.name, known: Array(masks.keys).sorted())
            }
            tensor.mask = mask
        }
    }

    private func currentMasks(_ network: Network) -> [String: [Bool]] {
        network.prunableTensors.reduce(into: [:]) { $0[$1.name] = $1.mask!.map { $0 != 0 } }
    }

    private func densityRecords(of network: Network, requested: Double) -> [LayerDensityRecord] {
        network.prunableTensors.map {
            LayerDensityRecord(name: $0.name, weights: $0.count, remaining: $0.unmaskedCount, requestedDensity: requested)
        }
    }

    private func roundResult(round: Int, trainer: Trainer, fromEpoch: Int, layers: [LayerDensityRecord], requested: Double,
                             collapsed: Bool, nanScores: Int, seconds: Double) -> RoundResult {
        let epochs = trainer.history.filter { $0.epoch > fromEpoch }
        let accuracies = epochs.compactMap(\.testAccuracy)
        let total = layers.reduce(0) { $0 + $1.weights }
        let finite: (Double?) -> Double? = { value in value.flatMap { $0.isFinite ? $0 : nil } }
        var status = collapsed ? RoundStatus.collapsed : .ok
        var divergence: Divergence?
        if case let .diverged(epoch, step, loss) = trainer.status {
            // A diverged round has no accuracy: its last good epoch is not
            // what the configuration trains to.
            status = .diverged
            divergence = Divergence(epoch: epoch + 1, step: step + 1, loss: loss)
        }
        return RoundResult(
            round: round, requestedDensity: requested,
            achievedDensity: total == 0 ? 1 : Double(layers.reduce(0) { $0 + $1.remaining }) / Double(total),
            layers: layers,
            finalTestAccuracy: divergence == nil ? finite(epochs.last?.testAccuracy) : nil,
            bestTestAccuracy: divergence == nil ? accuracies.max() : nil,
            finalTestLoss: divergence == nil ? finite(epochs.last?.testLoss) : nil,
            finalTrainLoss: divergence == nil ? finite(epochs.last?.trainLoss) : nil,
            epochs: epochs.count, status: status, wallSeconds: seconds, nanScores: nanScores, divergence: divergence)
    }
}

/// Forwards epoch records and steps to the experiment's observers.
private final class ExperimentReporter: TrainingCallback {
    let epoch: (EpochRecord) -> Void
    let step: (StepInfo) -> Void
    init(epoch: @escaping (EpochRecord) -> Void, step: @escaping (StepInfo) -> Void) {
        self.epoch = epoch
        self.step = step
    }
    func trainer(_ trainer: Trainer, didFinishEpoch record: EpochRecord) { epoch(record) }
    func trainer(_ trainer: Trainer, didStep info: StepInfo) { step(info) }
}
