<%
  String name = request.getParameter("name");
  Process p = Runtime.getRuntime().exec(new String[] {"/usr/bin/uptime"});
  out.println("Hello " + name);
%>
