module muxpatternsbench

go 1.22
