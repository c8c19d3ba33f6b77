module muxbench

go 1.19
