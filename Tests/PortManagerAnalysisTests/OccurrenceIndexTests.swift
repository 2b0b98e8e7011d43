import Testing
@testable import PortManagerCore
@testable import PortManagerAnalysis

// The data structures of the analysis on their own: the occurrence index the
// sweep groups collisions with, the fix search's candidate bases, and the
// streamed JSON document.

@Suite("OccurrenceIndex")
struct OccurrenceIndexTests {
    @Test("occurrences with equal keys share a group, numbered by first appearance; points are stored sorted")
    func grouping() {
        var index = OccurrenceIndex()
        // Key: the point's tens, so 31 and 35 have one key.
        let key: (Int) -> Int = { $0 / 10 }
        index.add([21, 11], first: 100, last: 100, key: key)   // keys [1, 2]
        index.add([42, 31], first: 200, last: 201, key: key)   // keys [3, 4]
        index.add([15, 25], first: 300, last: 300, key: key)   // keys [1, 2] again
        index.add([35, 44, 12], first: 400, last: 400, key: key)  // keys [1, 3, 4]: three points
        #expect(index.groups.count == 3)
        #expect(index.entries.map(\.group) == [0, 1, 0, 2])
        #expect(index.entries.map { Array(index.points(of: $0)) } == [[11, 21], [31, 42], [15, 25], [12, 35, 44]])
        #expect(index.entries.map(\.first) == [100, 200, 300, 400])
        #expect(index.entries.map(\.last) == [100, 201, 300, 400])
        #expect((0..<3).map { Array(index.key(of: $0)) } == [[1, 2], [3, 4], [1, 3, 4]])
        let (start, order) = index.entriesByGroup()
        #expect(start == [0, 2, 3, 4])
        #expect(order == [0, 2, 1, 3])
    }

    @Test("keys that differ only in length or order are different groups")
    func keyShape() {
        var index = OccurrenceIndex()
        let key: (Int) -> Int = { $0 }
        index.add([1, 2], first: 1, last: 1, key: key)
        index.add([1, 2, 3], first: 1, last: 1, key: key)
        index.add([2, 1], first: 1, last: 1, key: key)  // sorted first: same as [1, 2]
        index.add([1, 3], first: 1, last: 1, key: key)
        #expect(index.entries.map(\.group) == [0, 1, 0, 2])
    }

    @Test("many groups: the table grows and every key still finds its group")
    func growth() {
        var index = OccurrenceIndex()
        let key: (Int) -> Int = { $0 }
        let groups = 20_000  // well past the table's first size (4,096 slots, half full)
        for round in 0..<2 {
            for g in 0..<groups { index.add([2 * g, 2 * g + 1], first: round, last: round, key: key) }
        }
        #expect(index.groups.count == groups)
        #expect(index.entries.count == 2 * groups)
        #expect(index.entries[groups...].map(\.group) == (0..<groups).map { Int32($0) })
        let (start, order) = index.entriesByGroup()
        #expect(start.last == 2 * groups)
        #expect((0..<groups).allSatisfy { order[2 * $0] == $0 && order[2 * $0 + 1] == groups + $0 })
    }
}

@Suite("CandidateBases")
struct CandidateBasesTests {
    @Test("round bases first, nearest at or above the current base, then below; then the others alike")
    func order() {
        var bases = CandidateBases([1100, 1203, 1250, 1300, 1301, 1402])
        #expect(bases.nearest(to: 1260) { _ in true } == 1300)
        #expect(bases.nearest(to: 1260) { $0 != 1300 } == 1250)     // 1300 dies
        #expect(bases.nearest(to: 1260) { $0 % 10 != 0 } == 1301)  // every round base dies
        #expect(bases.nearest(to: 1500) { $0 % 10 != 0 } == 1402)
        #expect(!bases.isEmpty)
    }

    @Test("a base that does not fit once is never offered again; all dead is empty")
    func dead() {
        var bases = CandidateBases([1100, 1203, 1300])
        var asked: [Int] = []
        #expect(bases.nearest(to: 1000) { asked.append($0); return false } == nil)
        #expect(asked == [1100, 1300, 1203])
        #expect(bases.isEmpty)
        asked = []
        #expect(bases.nearest(to: 1000) { asked.append($0); return true } == nil)
        #expect(asked.isEmpty)
    }
}

@Suite("Analysis: streamed JSON")
struct StreamedJSONTests {
    /// Records each write.
    struct Writes: TextOutputStream {
        var pieces: [String] = []
        mutating func write(_ text: String) { pieces.append(text) }
    }

    @Test("writeJSON writes json() piece by piece: the head, one write per finding, the end")
    func pieces() throws {
        let r = registry([("grafana", 100, 5, [("port", 3000, 1)]), ("loki", 100, 5, [("port", 3100, 1)]),
                          ("low", 100, 2, [("port", 80, 1)])])
        let analysis = try Analysis(registry: r, options: AnalysisOptions())
        #expect(analysis.findings.count == 2)
        var writes = Writes()
        analysis.writeJSON(to: &writes)
        #expect(writes.pieces.count == 2 + analysis.findings.count)
        #expect(writes.pieces.joined() == analysis.json())
        #expect(writes.pieces.first?.hasSuffix("\"findings\":[") == true)
        #expect(writes.pieces.last == "]}")
        #expect(writes.pieces[2].hasPrefix(",{\"kind\":"))
    }
}
