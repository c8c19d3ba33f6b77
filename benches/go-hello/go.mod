module gohello

go 1.19
