package identities

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files of the trial certificate authority (InitCA), under tlsDir.
const (
	tlsDir        = "tls"
	caCertFile    = "ca.pem"
	caKeyFile     = "ca-key.pem"
	serverCert    = "server.pem"
	serverKeyFile = "server-key.pem"
	clientsDir    = "clients" // NAME.pem and NAME-key.pem for each identity
)

// TLSFiles are the paths of a trial CA's certificate, of the hub's server
// certificate and key, and of the folder of the identities' client
// certificates.
type TLSFiles struct {
	CA, Cert, Key string
	Clients       string
}

// TLSFilesIn returns where InitCA writes its files in dir.
func TLSFilesIn(dir string) TLSFiles {
	d := filepath.Join(dir, tlsDir)
	return TLSFiles{CA: filepath.Join(d, caCertFile), Cert: filepath.Join(d, serverCert), Key: filepath.Join(d, serverKeyFile),
		Clients: filepath.Join(d, clientsDir)}
}

// ClientCert returns the paths of identity name's client certificate and
// key (made by InitCA).
func (f TLSFiles) ClientCert(name string) (cert, key string) {
	return filepath.Join(f.Clients, name+".pem"), filepath.Join(f.Clients, name+"-key.pem")
}

// InitCA makes a local certificate authority for trials, a server
// certificate signed by it for hosts (names or IP addresses; localhost and
// the loopback addresses are always included), and a client certificate
// for every identity whose .creds is in dir (for a hub that also wants
// client certificates: anzhi hub --tls-client-ca), all valid for two
// years. Clients trust the CA's certificate (anzhi --tls-ca
// DIR/tls/ca.pem). A real deployment uses the city's own CA instead.
func InitCA(dir string, hosts []string) (TLSFiles, error) {
	files := TLSFilesIn(dir)
	if err := os.MkdirAll(filepath.Dir(files.CA), 0o700); err != nil {
		return files, fmt.Errorf("identities: %w", err)
	}
	if _, err := os.Stat(files.CA); err == nil {
		return files, fmt.Errorf("identities: %s: %w", files.CA, ErrExists)
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return files, fmt.Errorf("identities: CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "anzhi trial CA", Organization: []string{"anzhi"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return files, fmt.Errorf("identities: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return files, fmt.Errorf("identities: CA certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return files, fmt.Errorf("identities: server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "anzhi hub", Organization: []string{"anzhi"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return files, fmt.Errorf("identities: server certificate: %w", err)
	}
	for _, f := range []struct {
		path, kind string
		der        []byte
		mode       os.FileMode
	}{
		{files.CA, "CERTIFICATE", caDER, 0o644},
		{filepath.Join(filepath.Dir(files.CA), caKeyFile), "EC PRIVATE KEY", mustEC(caKey), 0o600},
		{files.Cert, "CERTIFICATE", der, 0o644},
		{files.Key, "EC PRIVATE KEY", mustEC(key), 0o600},
	} {
		if err := writePEM(f.path, f.kind, f.der, f.mode); err != nil {
			return files, err
		}
	}
	creds, err := filepath.Glob(filepath.Join(dir, "*"+credsSuffix))
	if err != nil {
		return files, fmt.Errorf("identities: %w", err)
	}
	if err := os.MkdirAll(files.Clients, 0o700); err != nil {
		return files, fmt.Errorf("identities: %w", err)
	}
	for _, c := range creds {
		name := strings.TrimSuffix(filepath.Base(c), credsSuffix)
		if err := clientCert(files, name, ca, caKey, now); err != nil {
			return files, err
		}
	}
	return files, nil
}

// clientCert writes identity name's client certificate, signed by ca.
func clientCert(files TLSFiles, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("identities: client key of %s: %w", name, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"anzhi"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("identities: client certificate of %s: %w", name, err)
	}
	cert, keyPath := files.ClientCert(name)
	if err := writePEM(cert, "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writePEM(keyPath, "EC PRIVATE KEY", mustEC(key), 0o600)
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), mode); err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n
}

// mustEC encodes a key made by ecdsa.GenerateKey, which always encodes.
func mustEC(k *ecdsa.PrivateKey) []byte {
	b, _ := x509.MarshalECPrivateKey(k)
	return b
}
