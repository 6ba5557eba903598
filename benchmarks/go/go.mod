module trionetbench

go 1.23
