package netguard

// refusedURLs are webhook URLs that must be refused both when saved
// (CheckURL) and when dialled (Guard): the same few internal targets, spelled
// every way a parser on the path might read as them. want is the address
// each one reaches.
var refusedURLs = []struct {
	url  string
	want string
}{
	{"http://127.0.0.1/", "127.0.0.1"},
	{"http://127.1/", "127.0.0.1"},
	{"http://0x7f.1/", "127.0.0.1"},
	{"http://0177.0.0.1/", "127.0.0.1"},
	{"http://127.000.000.001/", "127.0.0.1"},
	{"http://2130706433/", "127.0.0.1"},
	{"http://0x7f000001/", "127.0.0.1"},
	{"http://0X7F.0X0.0X0.0X1/", "127.0.0.1"},
	{"http://017700000001/", "127.0.0.1"},
	{"http://127.0.0.1.:8080/hook", "127.0.0.1"},
	{"http://[::1]/", "::1"},
	{"http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"},
	{"http://[0:0:0:0:0:ffff:7f00:1]/", "::ffff:127.0.0.1"},
	{"http://[::127.0.0.1]/", "::127.0.0.1"},
	{"http://[2002:7f00:1::]/", "2002:7f00:1::"},
	{"http://169.254.169.254/latest/meta-data/", "169.254.169.254"},
	{"http://0xa9fea9fe/", "169.254.169.254"},
	{"http://0251.0376.0251.0376/", "169.254.169.254"},
	{"http://[::ffff:a9fe:a9fe]/", "::ffff:169.254.169.254"},
	{"http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe"},
	{"http://[fe80::a9fe:a9fe%25en0]/", "fe80::a9fe:a9fe"},
	{"http://[fd00:ec2::254]/", "fd00:ec2::254"},
	{"http://10.0.0.1:8080/", "10.0.0.1"},
	{"http://172.16.0.1/", "172.16.0.1"},
	{"https://192.168.1.1/", "192.168.1.1"},
	{"https://192.168.257/", "192.168.1.1"},
	{"https://3232235777/", "192.168.1.1"},
	{"http://[::ffff:10.0.0.1]:443/", "::ffff:10.0.0.1"},
	{"http://100.64.0.1/", "100.64.0.1"},
	{"http://0.0.0.0/", "0.0.0.0"},
	{"http://0/", "0.0.0.0"},
	{"http://[::]/", "::"},
	{"http://224.0.0.1/", "224.0.0.1"},
	{"http://255.255.255.255/", "255.255.255.255"},
	{"http://[fc00::1]/", "fc00::1"},
	{"http://[fec0::1]/", "fec0::1"},
	{"http://[ff02::1]/", "ff02::1"},
}

// refusedNames are localhost names: CheckURL refuses them by name, Guard by
// what they resolve to.
var refusedNames = []string{
	"http://localhost/",
	"https://LOCALHOST.:8443/",
	"http://api.localhost:3000/",
	"http://localhost.localdomain/",
}
