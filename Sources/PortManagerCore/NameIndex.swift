/// The did-you-mean search over a fixed list of names, for a miss whose list is
/// large (a registry's services): ``closest(to:)`` gives exactly what
/// ``Suggest/closest(to:among:)`` gives over the same names in the same order,
/// without comparing the word with every name.
///
/// The names are kept in a trie of Unicode scalars. The search walks it depth
/// first, computing one row of the optimal-string-alignment table per node
/// (the row of the word against the node's prefix), only inside the diagonal
/// band `|i - j| <= limit`, and leaves a subtree as soon as every cell of its
/// row exceeds the limit: every cell below grows from that row (a transposed
/// pair from the row above is never smaller than the cell it jumps over), so
/// no name under it can come back within the limit. Only prefixes within
/// `limit` edits of some prefix of the word are visited, not every name
/// (benchmarks/core: a message read at 10,000 services against the linear scan).
///
/// The trie is built on the first search (a miss alone costs nothing; see
/// ``DidYouMean``), under a lock, and shared by every copy of the registry.
package final class NameIndex: Sendable {
    /// The names, in source order: ties are broken towards the first.
    private let names: [String]
    private let trie: Locked<Trie?>

    package init(_ names: [String]) {
        self.names = names
        trie = Locked(nil)
    }

    /// ``Suggest/closest(to:among:)`` over the names.
    package func closest(to word: String) -> String? {
        let index = trie.withLock { built -> Trie in
            if let built { return built }
            let made = Trie(names)
            built = made
            return made
        }
        let limit = min(2, max(1, word.count / 2))
        let x = word.unicodeScalars.map(\.value)
        var best: (distance: Int, name: Int)?
        index.search(x, limit: limit) { distance, name in
            if let current = best, (current.distance, current.name) <= (distance, name) { return }
            // As Suggest.closest, skip the word itself (String equality: canonical equivalence).
            if names[name] == word { return }
            best = (distance, name)
        }
        return best.map { names[$0.name] }
    }

    /// The trie: flat arrays, children of a node in one contiguous run.
    private struct Trie: Sendable {
        /// Per node: its scalar, the first index of its children's run in the
        /// node arrays, the number of children, and the smallest index of a name
        /// ending there (-1 for none).
        var scalar: [UInt32] = [0]
        var firstChild: [Int32] = [0]
        var childCount: [Int32] = [0]
        var terminal: [Int32] = [-1]
        var depthLimit = 0

        init(_ names: [String]) {
            // Every name's scalars in one buffer; then name indexes sorted by
            // scalars (ties by index), so that each node's children are a
            // contiguous run when the trie is laid out breadth first.
            var flat: [UInt32] = []
            var start: [Int] = [], length: [Int] = []
            start.reserveCapacity(names.count)
            length.reserveCapacity(names.count)
            for name in names {
                start.append(flat.count)
                for s in name.unicodeScalars { flat.append(s.value) }
                length.append(flat.count - start[start.count - 1])
            }
            depthLimit = length.max() ?? 0
            var order = Array(names.indices)
            flat.withUnsafeBufferPointer { f in
                order.sort { a, b in
                    let la = length[a], lb = length[b], sa = start[a], sb = start[b]
                    var i = 0
                    while i < la && i < lb {
                        let x = f[sa + i], y = f[sb + i]
                        if x != y { return x < y }
                        i += 1
                    }
                    return la != lb ? la < lb : a < b
                }
                // Breadth first: each entry is a node and the range of `order` below it.
                var level: [(node: Int, range: Range<Int>)] = [(0, 0..<order.count)]
                var depth = 0
                while !level.isEmpty {
                    var next: [(node: Int, range: Range<Int>)] = []
                    for (node, range) in level {
                        var i = range.lowerBound
                        // Names ending at this node come first in sorted order.
                        while i < range.upperBound, length[order[i]] == depth {
                            if terminal[node] < 0 { terminal[node] = Int32(order[i]) }
                            i += 1
                        }
                        firstChild[node] = Int32(scalar.count)
                        while i < range.upperBound {
                            let s = f[start[order[i]] + depth]
                            var j = i + 1
                            while j < range.upperBound, f[start[order[j]] + depth] == s { j += 1 }
                            let child = scalar.count
                            scalar.append(s); firstChild.append(0); childCount.append(0); terminal.append(-1)
                            childCount[node] += 1
                            next.append((child, i..<j))
                            i = j
                        }
                    }
                    level = next
                    depth += 1
                }
            }
        }

        /// Calls `found(distance, name)` for every name within `limit` edits of `x`.
        func search(_ x: [UInt32], limit: Int, found: (Int, Int) -> Void) {
            let cap = limit + 1
            let maxDepth = min(depthLimit, x.count + limit)
            let width = x.count + 2  // one spare column past the end, always `cap`
            var rows = [Int](repeating: cap, count: (maxDepth + 1) * width)
            for j in 0...x.count { rows[j] = min(j, cap) }
            if terminal[0] >= 0, x.count <= limit { found(x.count, Int(terminal[0])) }
            guard maxDepth >= 1 else { return }
            // Depth-first walk: per depth, the node and the next sibling to visit.
            var path = [Int](repeating: 0, count: maxDepth + 1)
            var stack: [(depth: Int, next: Int, end: Int)] = [(1, Int(firstChild[0]), Int(firstChild[0] + childCount[0]))]
            rows.withUnsafeMutableBufferPointer { cells in
                while var top = stack.popLast() {
                    guard top.next < top.end else { continue }
                    let node = top.next
                    top.next += 1
                    stack.append(top)
                    let i = top.depth
                    path[i] = node
                    let y = scalar[node]
                    let current = i * width, previous = current - width
                    let low = max(1, i - limit), high = min(x.count, i + limit)
                    cells[current] = min(i, cap)
                    if low > 1 { cells[current + low - 1] = cap }
                    var rowMin = cells[current]
                    if low <= high {
                        cells[current + high + 1] = cap
                        for j in low...high {
                            let cost = x[j - 1] == y ? 0 : 1
                            var value = min(cells[previous + j] + 1, cells[current + j - 1] + 1, cells[previous + j - 1] + cost)
                            if i > 1, j > 1, y == x[j - 2], scalar[path[i - 1]] == x[j - 1] {
                                value = min(value, cells[previous - width + j - 2] + 1)
                            }
                            value = min(value, cap)
                            cells[current + j] = value
                            rowMin = min(rowMin, value)
                        }
                    }
                    if terminal[node] >= 0, x.count <= high, cells[current + x.count] <= limit {
                        found(cells[current + x.count], Int(terminal[node]))
                    }
                    if rowMin <= limit, i < maxDepth, childCount[node] > 0 {
                        stack.append((i + 1, Int(firstChild[node]), Int(firstChild[node] + childCount[node])))
                    }
                }
            }
        }
    }
}
