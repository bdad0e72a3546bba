// Builds etcd for the local control plane: main.go calls etcdmain.Main, as etcd's own main does.
// A module of its own because k8s.io/kubernetes requires a different etcd than the server built here.
module kube-lego.test/tools/etcd

go 1.26
