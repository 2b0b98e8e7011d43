/// Did-you-mean suggestions for misspelt names.
public enum Suggest {
    /// The candidate closest to `word` by edit distance, if it is close enough to
    /// be a typo: at most 2 edits, and fewer than half the word's length.
    /// Transposed neighbours (`instance_incremnet`) count as one edit.
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = min(2, max(1, word.count / 2))
        var best: (String, Int)?
        for candidate in candidates where candidate != word {
            let d = distance(word, candidate, limit: limit)
            if d <= limit, best == nil || d < best!.1 { best = (candidate, d) }
        }
        return best?.0
    }

    /// Optimal-string-alignment distance between `a` and `b`; anything past
    /// `limit` is reported as `limit + 1`.
    public static func distance(_ a: String, _ b: String, limit: Int = .max) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if abs(x.count - y.count) > limit { return limit == .max ? limit : limit + 1 }
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}
