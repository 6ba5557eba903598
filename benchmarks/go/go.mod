module trionetbench

go 1.27
