module portmanager

go 1.19
