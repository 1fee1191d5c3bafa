package io.slime.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class HubTest {

  @Test
  void shouldPrintTheListeningAddressAsTheOperatorWroteIt() throws Exception {
    InetSocketAddress anyV6 = new InetSocketAddress(InetAddress.getByName("::"), 20080);
    InetSocketAddress anyV4 = new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 8080);
    InetSocketAddress loopbackV6 = new InetSocketAddress(InetAddress.getByName("::1"), 8080);

    assertEquals("0.0.0.0:20080", Hub.printable(anyV6, "0.0.0.0"));
    assertEquals("0.0.0.0:8080", Hub.printable(anyV4, "0.0.0.0"));
    assertEquals("[::]:8080", Hub.printable(anyV4, "::"));
    assertEquals("127.0.0.1:8080", Hub.printable(new InetSocketAddress("127.0.0.1", 8080), "x"));
    assertEquals("[0:0:0:0:0:0:0:1]:8080", Hub.printable(loopbackV6, "::1"));
  }
}
