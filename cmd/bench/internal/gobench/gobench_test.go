package gobench

import "testing"

func TestParseTakesTheMedianOfEachBenchmark(t *testing.T) {
	out := `goos: linux
BenchmarkRenderProfilePage-2   	   30000	     40000 ns/op	   18541 B/op	     183 allocs/op
BenchmarkRenderSavedFragment-2 	   40000	     28000 ns/op	    7617 B/op	     155 allocs/op
BenchmarkRenderProfilePage-2   	   30000	     20000 ns/op	   18541 B/op	     183 allocs/op
BenchmarkRenderProfilePage-2   	   30000	     30000 ns/op	   18541 B/op	     183 allocs/op
PASS`
	lines := Parse(out)
	if len(lines) != 2 || lines[0].Name != "BenchmarkRenderProfilePage" || lines[1].Name != "BenchmarkRenderSavedFragment" {
		t.Fatalf("lines %+v", lines)
	}
	if l := lines[0]; l.NsOp != 30000 || l.Best != 20000 || l.Runs != 3 || l.Allocs != 183 || l.Bytes != 18541 {
		t.Errorf("profile page %+v; want the median 30000 of 3 runs, best 20000", l)
	}
}
