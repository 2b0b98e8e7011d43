import Testing
@testable import PortManagerCore

/// The reference: the did-you-mean as it was before ``NameIndex``, the full
/// optimal-string-alignment distance to every candidate, first one at the least
/// distance within the limit wins.
private func reference(_ word: String, _ candidates: [String]) -> String? {
    let limit = min(2, max(1, word.count / 2))
    var best: (String, Int)?
    for candidate in candidates where candidate != word {
        let d = Suggest.distance(word, candidate)
        if d <= limit, best == nil || d < best!.1 { best = (candidate, d) }
    }
    return best?.0
}

/// A seeded generator: the same corpus on every run.
private struct Seeded {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }
}

/// `word` with `edits` random deletions, insertions, substitutions or
/// transpositions over `alphabet`.
private func mutate(_ word: String, _ edits: Int, _ alphabet: [Character], _ random: inout Seeded) -> String {
    var letters = Array(word)
    for _ in 0..<edits {
        let at = letters.isEmpty ? 0 : random.next(letters.count)
        switch random.next(4) {
        case 0 where !letters.isEmpty: letters.remove(at: at)
        case 1: letters.insert(alphabet[random.next(alphabet.count)], at: at)
        case 2 where !letters.isEmpty: letters[at] = alphabet[random.next(alphabet.count)]
        case 3 where letters.count > 1 && at + 1 < letters.count: letters.swapAt(at, at + 1)
        default: letters.append(alphabet[random.next(alphabet.count)])
        }
    }
    return String(letters)
}

@Suite("Did-you-mean index")
struct NameIndexTests {
    /// Small random lists over a small alphabet (with a non-ASCII letter):
    /// near misses, transpositions, duplicates and ties are common.
    @Test func agreesWithTheFullDistanceOnSmallLists() {
        var random = Seeded(state: 0x9E37_79B9_7F4A_7C15)
        let alphabet: [Character] = ["a", "b", "c", "-", "é"]
        func word() -> String { String((0..<random.next(9)).map { _ in alphabet[random.next(alphabet.count)] }) }
        var suggested = 0
        for _ in 0..<4000 {
            let candidates = (0..<random.next(14)).map { _ in word() }
            let target = candidates.isEmpty || random.next(2) == 0
                ? word() : mutate(candidates[random.next(candidates.count)], random.next(4), alphabet, &random)
            let got = NameIndex(candidates).closest(to: target)
            #expect(got == reference(target, candidates), "word '\(target)' among \(candidates)")
            #expect(got == Suggest.closest(to: target, among: candidates))
            if got != nil { suggested += 1 }
        }
        #expect(suggested > 800)  // many suggestions compared, not only nil == nil
    }

    /// A registry-sized list of service-like names (a shared prefix and
    /// numbers, as generated registries have, plus words): one index, many
    /// misses made by up to three edits of a name, and words from nowhere.
    @Test func agreesWithTheFullDistanceOnALargeList() {
        var random = Seeded(state: 42)
        let letters: [Character] = Array("abcdefghijklmnopqrstuvwxyz-_0123456789")
        var names: [String] = []
        for i in 0..<1200 {
            switch i % 3 {
            case 0: names.append("service-\(i)")
            case 1: names.append("svc\(random.next(100))-\(["kafka", "redis", "api", "web"][random.next(4)])")
            default: names.append(String((0..<(3 + random.next(10))).map { _ in letters[random.next(letters.count)] }))
            }
        }
        let index = NameIndex(names)
        var suggested = 0
        for round in 0..<300 {
            let target = round % 5 == 0
                ? String((0..<random.next(12)).map { _ in letters[random.next(letters.count)] })
                : mutate(names[random.next(names.count)], 1 + random.next(3), letters, &random)
            let got = index.closest(to: target)
            #expect(got == reference(target, names), "word '\(target)'")
            if got != nil { suggested += 1 }
        }
        #expect(suggested > 100)
    }

    @Test func theWordItselfAndEmptyLists() {
        #expect(NameIndex([]).closest(to: "kafka") == nil)
        #expect(NameIndex([""]).closest(to: "a") == "")
        #expect(NameIndex(["kafka"]).closest(to: "kafka") == nil)
        #expect(NameIndex(["kafka", "kafka", "kafak"]).closest(to: "kafka") == "kafak")
        #expect(NameIndex(["redis", "kafka"]).closest(to: "kafak") == "kafka")
        // A tie goes to the first name in source order.
        #expect(NameIndex(["kafkb", "kafkc"]).closest(to: "kafka") == "kafkb")
        #expect(NameIndex(["kafkc", "kafkb"]).closest(to: "kafka") == "kafkc")
    }

    /// The registry's miss carries the index's answer.
    @Test func aRegistryMissUsesTheIndex() {
        let here = SourceLocation(file: "<test>", line: 1, column: 1)
        let registry = Registry(source: "<test>", services: [
            ServiceDefinition(name: "kafka", ports: [PortDefinition(name: "port", base: 9092, location: here)], location: here),
        ])
        #expect(registry.unknownService("kafak") == .unknownService("kafak", suggestion: "kafka"))
    }
}
