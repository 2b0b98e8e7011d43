module portmanager/benchmarks/go

go 1.19

require portmanager v0.0.0

// The binding from this checkout: no module proxy is involved.
replace portmanager => ../../bindings/go
