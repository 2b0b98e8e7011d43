import PortManagerCore

/// The occurrences of collisions the sweep finds, grouped by a key: the
/// sorted points' keys (their scenario-slots, ``Lattice/scenarioSlot(of:)``),
/// so that a pattern repeated over instances becomes one finding.
///
/// A dense registry has millions of occurrences, so storage is flat: every
/// occurrence's points in one array, every group's key in another, and the
/// groups found by open addressing over the keys' hashes. Adding an
/// occurrence allocates nothing of its own (a `Dictionary` keyed by arrays
/// would allocate an array per occurrence).
struct OccurrenceIndex {
    /// One occurrence: the host ports `first...last`, its group, and where
    /// its points (sorted) are in ``points``.
    struct Entry {
        let first: Int, last: Int
        let group: Int32
        let points: Range<Int>
    }

    /// One group: where its key is in the key store, and the key's hash.
    struct Group {
        let key: Range<Int>
        let hash: Int
    }

    /// Every occurrence, in the order added.
    private(set) var entries: [Entry] = []
    /// The points of every occurrence, each occurrence's sorted, back to back.
    private(set) var points: [Int] = []
    /// Every group, numbered by first appearance.
    private(set) var groups: [Group] = []
    /// The key of every group, back to back.
    private var keys: [Int] = []
    /// Open addressing: a group number, or -1 for an empty slot. Never more than half full.
    private var table = [Int32](repeating: -1, count: 1 << 12)

    /// The points of occurrence `entry`, sorted.
    func points(of entry: Entry) -> ArraySlice<Int> { points[entry.points] }

    /// Adds the occurrence of `points` (in any order) sharing host ports
    /// `first...last`, in the group whose key is `key` of each sorted point
    /// (created when new).
    mutating func add<Points: Collection<Int>>(_ points: Points, first: Int, last: Int, key: (Int) -> Int) {
        let start = self.points.count
        self.points.append(contentsOf: points)
        self.points.withUnsafeMutableBufferPointer { buffer in
            var tail = UnsafeMutableBufferPointer(rebasing: buffer[start...])
            if tail.count == 2 {
                if tail[0] > tail[1] { tail.swapAt(0, 1) }
            } else {
                tail.sort()
            }
        }
        let range = start..<self.points.count
        entries.append(Entry(first: first, last: last, group: group(of: range, key: key), points: range))
    }

    /// The group whose key is that of the sorted `self.points[range]`, created when new.
    private mutating func group(of range: Range<Int>, key: (Int) -> Int) -> Int32 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        for index in range {
            h = (h ^ UInt64(bitPattern: Int64(key(points[index])))) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        let hash = Int(bitPattern: UInt(h >> 1))
        let mask = table.count - 1
        var at = hash & mask
        while true {
            let g = Int(table[at])
            if g < 0 { break }
            let group = groups[g]
            if group.hash == hash && group.key.count == range.count
                && zip(group.key, range).allSatisfy({ keys[$0] == key(points[$1]) }) {
                return Int32(g)
            }
            at = (at + 1) & mask
        }
        let keyStart = keys.count
        for index in range { keys.append(key(points[index])) }
        let g = groups.count
        groups.append(Group(key: keyStart..<keys.count, hash: hash))
        table[at] = Int32(g)
        if 2 * groups.count > table.count { rehash() }
        return Int32(g)
    }

    /// Doubles the table and places every group again.
    private mutating func rehash() {
        table = [Int32](repeating: -1, count: 2 * table.count)
        let mask = table.count - 1
        for (g, group) in groups.enumerated() {
            var at = group.hash & mask
            while table[at] >= 0 { at = (at + 1) & mask }
            table[at] = Int32(g)
        }
    }

    /// The key of group `g`: its points' keys, in point order.
    func key(of g: Int) -> ArraySlice<Int> { keys[groups[g].key] }

    /// The entries' indices grouped: group g's occurrences are
    /// `order[start[g]..<start[g + 1]]`, in the order added (a stable counting sort).
    func entriesByGroup() -> (start: [Int], order: [Int]) {
        var start = [Int](repeating: 0, count: groups.count + 1)
        for entry in entries { start[Int(entry.group) + 1] += 1 }
        for g in 0..<groups.count { start[g + 1] += start[g] }
        var order = [Int](repeating: 0, count: entries.count)
        var next = start
        for (index, entry) in entries.enumerated() {
            order[next[Int(entry.group)]] = index
            next[Int(entry.group)] += 1
        }
        return (start, order)
    }
}
